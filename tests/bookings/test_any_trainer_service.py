"""booking_create_any_trainer: the free trainer with the fewest sessions that week, ties by id, under the same
locks and checks as every booking."""

from datetime import timedelta

import pytest
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role
from tenant_apps.availability.models import TrainerBreak
from tenant_apps.bookings import services
from tenant_apps.bookings.models import Booking, BookingStatus, PaymentState
from tests.bookings.conftest import at, sell
from tests.conftest import make_user, next_monday
from tests.factories import ClientFactory, SessionTypeFactory, TrainerFactory, WindowFactory

pytestmark = pytest.mark.django_db


def coach(name: str, **fields):
    trainer = TrainerFactory(display_name=name, **fields)
    for day in range(7):
        WindowFactory(trainer=trainer, day_of_week=day, start_time="09:00", end_time="12:00")
    return trainer


@pytest.fixture
def team(studio_a):
    """Ann, Ben and Cat (ids in that order), 09:00-12:00 every day, all offering one 60-minute session type."""
    with tenant_context(studio_a):
        trainers = [coach(name) for name in ("Ann", "Ben", "Cat")]
        session_type = SessionTypeFactory(name="Team PT", trainers=trainers)
    return (*trainers, session_type)


def book_any(studio, session_type, start, **fields):
    fields.setdefault("created_by", None)
    with tenant_context(studio):
        fields.setdefault("client", ClientFactory())
        return services.booking_create_any_trainer(session_type=session_type, start_time=start, **fields)


def book(studio, trainer, session_type, start, status=None):
    with tenant_context(studio):
        booking = services.booking_create(
            trainer=trainer, client=ClientFactory(), session_type=session_type, start_time=start
        )
        if status is not None:
            Booking.objects.filter(pk=booking.pk).update(status=status)
        return booking


def test_the_trainer_with_the_fewest_sessions_that_week_is_chosen(studio_a, team):
    ann, ben, cat, session_type = team
    monday = next_monday()
    wednesday = monday + timedelta(days=2)
    book(studio_a, ann, session_type, at(monday, "09:00"))
    book(studio_a, ann, session_type, at(monday, "10:00"), status=BookingStatus.COMPLETED)
    book(studio_a, ben, session_type, at(monday, "09:00"))
    book(studio_a, cat, session_type, at(monday, "09:00"))
    book(studio_a, cat, session_type, at(monday + timedelta(days=1), "09:00"))

    booking = book_any(studio_a, session_type, at(wednesday, "10:00"))

    assert booking.trainer == ben  # Ann has 2 (one completed counts), Ben 1, Cat 2
    assert booking.status == BookingStatus.CONFIRMED


def test_cancelled_bookings_and_other_weeks_do_not_count(studio_a, team):
    ann, ben, cat, session_type = team
    monday = next_monday(weeks_ahead=2)  # so that the Sunday before is ahead too
    for clock in ("09:00", "10:00", "11:00"):
        book(studio_a, cat, session_type, at(monday, clock), status=BookingStatus.CANCELLED)
    # The Sunday before and the Monday after, in the studio's zone: other weeks.
    book(studio_a, cat, session_type, at(monday - timedelta(days=1), "11:00"))
    book(studio_a, cat, session_type, at(monday + timedelta(days=7), "09:00"))
    book(studio_a, ann, session_type, at(monday + timedelta(days=3), "11:00"))
    book(studio_a, ben, session_type, at(monday + timedelta(days=6), "11:00"))  # Sunday: the same week

    booking = book_any(studio_a, session_type, at(monday + timedelta(days=2), "10:00"))

    assert booking.trainer == cat


def test_ties_go_to_the_lower_id(studio_a, team):
    ann, ben, cat, session_type = team
    monday = next_monday()
    book(studio_a, ann, session_type, at(monday, "09:00"))

    first = book_any(studio_a, session_type, at(monday, "11:00"))
    second = book_any(studio_a, session_type, at(monday, "11:00"))
    third = book_any(studio_a, session_type, at(monday, "11:00"))

    assert [first.trainer, second.trainer, third.trainer] == [ben, cat, ann]


def test_a_trainer_on_a_break_is_skipped(studio_a, team):
    ann, ben, _, session_type = team
    monday = next_monday()
    with tenant_context(studio_a):
        TrainerBreak.objects.create(trainer=ann, starts_at=at(monday, "09:30"), ends_at=at(monday, "10:30"))

    booking = book_any(studio_a, session_type, at(monday, "10:00"))

    assert booking.trainer == ben


def test_a_trainer_already_booked_then_is_skipped_even_with_fewer_sessions(studio_a, team):
    ann, ben, cat, session_type = team
    monday = next_monday()
    book(studio_a, ann, session_type, at(monday, "10:00"))
    for clock in ("09:00", "11:00"):
        book(studio_a, ben, session_type, at(monday, clock))
        book(studio_a, cat, session_type, at(monday, clock))
    book(studio_a, cat, session_type, at(monday + timedelta(days=1), "09:00"))

    booking = book_any(studio_a, session_type, at(monday, "10:00"))

    assert booking.trainer == ben  # Ann (1 session) is taken at 10:00; Ben has 2, Cat 3


def test_buffers_of_a_neighbouring_booking_rule_a_trainer_out(studio_a, team):
    ann, ben, _, session_type = team
    monday = next_monday()
    with tenant_context(studio_a):
        session_type.buffer_after_minutes = 15
        session_type.save()
    book(studio_a, ann, session_type, at(monday, "09:00"))  # keeps Ann until 10:15

    booking = book_any(studio_a, session_type, at(monday, "10:00"))

    assert booking.trainer == ben


def test_inactive_trainers_and_those_not_offering_the_type_are_skipped(studio_a, team):
    ann, ben, cat, session_type = team
    with tenant_context(studio_a):
        ann.is_active = False
        ann.save()
        session_type.trainers.remove(ben)

    booking = book_any(studio_a, session_type, at(next_monday(), "10:00"))

    assert booking.trainer == cat


def test_a_trainer_in_another_zone_is_free_by_their_own_hours(studio_a):
    """Nina works 04:00-08:00 in New York: 10:00 in London is within her hours, whatever the DST weeks."""
    monday = next_monday()
    with tenant_context(studio_a):
        nina = TrainerFactory(display_name="Nina", timezone="America/New_York")
        for day in range(7):
            WindowFactory(trainer=nina, day_of_week=day, start_time="04:00", end_time="08:00")
        ann = coach("Ann")
        session_type = SessionTypeFactory(trainers=[ann, nina])
    book(studio_a, ann, session_type, at(monday, "10:00"))

    booking = book_any(studio_a, session_type, at(monday, "10:00"))

    assert booking.trainer == nina
    with pytest.raises(services.SlotUnavailable):  # both taken now
        book_any(studio_a, session_type, at(monday, "10:00"))


def test_everyone_taken_is_slot_unavailable(studio_a, team):
    ann, ben, cat, session_type = team
    monday = next_monday()
    for trainer in (ann, ben, cat):
        book(studio_a, trainer, session_type, at(monday, "10:00"))

    with pytest.raises(services.SlotUnavailable):
        book_any(studio_a, session_type, at(monday, "10:00"))

    with tenant_context(studio_a):
        assert Booking.objects.filter(start_time=at(monday, "10:00")).count() == 3


def test_a_start_no_trainer_offers_is_not_a_slot(studio_a, team):
    *_, session_type = team

    with pytest.raises(services.NotASlot):
        book_any(studio_a, session_type, at(next_monday(), "10:20"))
    with pytest.raises(services.NotASlot):
        book_any(studio_a, session_type, at(next_monday(), "15:00"))


def test_the_session_types_notice_and_horizon_apply(studio_a, team):
    *_, session_type = team
    with tenant_context(studio_a):
        session_type.max_advance_days = 2
        session_type.save()

    with pytest.raises(services.OutsideBookingWindow):
        book_any(studio_a, session_type, at(next_monday(weeks_ahead=2), "10:00"))
    with pytest.raises(services.StartInPast):
        book_any(studio_a, session_type, at(next_monday() - timedelta(days=14), "10:00"))


def test_nobody_offering_the_type_or_a_retired_type_is_refused(studio_a, team):
    *_, session_type = team
    with tenant_context(studio_a):
        lonely = SessionTypeFactory()
        session_type.is_active = False
        session_type.save()

    with pytest.raises(services.NotASlot):
        book_any(studio_a, lonely, at(next_monday(), "10:00"))
    with pytest.raises(services.NotTakingBookings):
        book_any(studio_a, session_type, at(next_monday(), "10:00"))


def test_a_trainer_may_not_book_any_trainer(studio_a, team):
    *_, session_type = team
    trainer_user = make_user(studio_a, role=Role.TRAINER, email="coach@alpha.test")

    with pytest.raises(services.OwnCalendarOnly):
        book_any(studio_a, session_type, at(next_monday(), "10:00"), created_by=trainer_user)


def test_it_is_paid_by_the_clients_credit_like_any_booking(studio_a, team, booking_client_a, client_a):
    ann, *_, session_type = team
    with tenant_context(studio_a):
        package = sell(booking_client_a, sessions_count=5)

    booking = book_any(studio_a, session_type, at(next_monday(), "10:00"), client=booking_client_a, created_by=client_a)

    assert booking.trainer == ann
    assert booking.payment_state == PaymentState.CREDIT
    assert booking.client_package == package
    with tenant_context(studio_a):
        package.refresh_from_db()
        assert package.sessions_remaining == 4
        assert booking.events.get().actor == client_a


def test_a_candidate_taken_by_a_write_that_bypassed_the_lock_leaves_nothing_and_the_next_one_is_booked(
    studio_a, team, monkeypatch
):
    """The exclusion constraint is the last line: a slot check that saw a trainer free (here, told to) meets a
    row written past the lock; the refusal rolls that attempt back and the next trainer gets the booking, in
    the same transaction."""
    ann, ben, _cat, session_type = team
    start = at(next_monday(), "10:00")
    taken = book_any(studio_a, session_type, start)
    assert taken.trainer == ann
    # Blind the checks made under the lock: only the database still knows Ann is taken at 10:00.
    monkeypatch.setattr(services, "_check_slot", lambda **_kwargs: None)
    monkeypatch.setattr(services, "any_trainer_candidates", lambda **_kwargs: [ann, ben])

    booking = book_any(studio_a, session_type, start)

    assert booking.trainer == ben
    with tenant_context(studio_a):
        assert Booking.objects.filter(trainer=ann, start_time=start).count() == 1
        # Nothing of the refused attempt stays: the client's one booking is Ben's.
        assert list(Booking.objects.filter(client=booking.client)) == [booking]


def test_a_single_trainer_booking_meeting_the_constraint_is_a_conflict(studio_a, team, monkeypatch):
    ann, _ben, _cat, session_type = team
    start = at(next_monday(), "11:00")
    book_any(studio_a, session_type, start)
    monkeypatch.setattr(services, "_check_slot", lambda **_kwargs: None)

    with tenant_context(studio_a), pytest.raises(services.SlotUnavailable):
        services.booking_create(
            trainer=ann, client=ClientFactory(), session_type=session_type, start_time=start, created_by=None
        )
