"""hold_create_any_trainer: a guest's hold with "any available trainer" chooses as bookings do (the free trainer
with the fewest sessions that week, ties by id), skips a trainer whose calendar is full of live holds, refuses as
hold_create does, and guests racing for the last trainers each get one or a clean 409."""

import contextlib
from datetime import time, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User
from shared_apps.core.exceptions import ValidationFailed
from tenant_apps.availability.models import AvailabilitySlot
from tenant_apps.bookings import holds, services
from tenant_apps.bookings.models import Booking, BookingEvent, BookingHold, BookingStatus
from tenant_apps.trainers.models import SessionType, Trainer
from tests.bookings.conftest import at
from tests.conftest import next_monday, run_committed, run_in_threads
from tests.factories import ClientFactory, SessionTypeFactory, TrainerFactory, WindowFactory

pytestmark = pytest.mark.django_db
GUEST = {
    "first_name": "Gina",
    "last_name": "Guest",
    "email": "gina@example.com",
    "phone": "07911 123456",
    "client_address": "203.0.113.7",
}


def coach(name: str):
    trainer = TrainerFactory(display_name=name)
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


def hold_any(studio, session_type, start, **fields) -> BookingHold:
    with tenant_context(studio):
        return holds.hold_create_any_trainer(session_type=session_type, start_time=start, **{**GUEST, **fields})


def book(studio, trainer, session_type, start, status=None) -> None:
    with tenant_context(studio):
        booking = services.booking_create(
            trainer=trainer, client=ClientFactory(), session_type=session_type, start_time=start
        )
        if status is not None:
            Booking.objects.filter(pk=booking.pk).update(status=status)


def live_holds(studio, trainer, count: int, start) -> None:
    """``count`` live holds in ``trainer``'s calendar (made directly: the caps are what is under test)."""
    with tenant_context(studio):
        for index in range(count):
            held = start + timedelta(days=index + 1)
            BookingHold.objects.create(
                trainer=trainer,
                session_type=SessionType.objects.first(),
                start_time=held,
                end_time=held + timedelta(hours=1),
                blocked_from=held,
                blocked_until=held + timedelta(hours=1),
                first_name="Filler",
                email=f"filler{index}@example.com",
                phone="+447911123456",
                token_hash=f"filler-{trainer.pk}-{index}",
                expires_at=timezone.now() + timedelta(minutes=15),
                client_address=f"198.51.100.{index + 1}",
            )


def test_the_trainer_with_the_fewest_sessions_that_week_holds_it(studio_a, team):
    ann, ben, cat, session_type = team
    monday = next_monday()
    book(studio_a, ann, session_type, at(monday, "09:00"))
    book(studio_a, ann, session_type, at(monday, "10:00"), status=BookingStatus.COMPLETED)
    book(studio_a, ben, session_type, at(monday, "09:00"))
    book(studio_a, cat, session_type, at(monday, "09:00"))
    book(studio_a, cat, session_type, at(monday + timedelta(days=1), "09:00"))

    held = hold_any(studio_a, session_type, at(monday + timedelta(days=2), "10:00"))

    assert held.trainer == ben  # Ann has 2 (one completed counts), Ben 1, Cat 2
    with tenant_context(studio_a):
        assert BookingHold.objects.get().trainer == ben


def test_ties_go_to_the_lower_id_and_a_held_trainer_is_not_free(studio_a, team):
    ann, ben, cat, session_type = team
    monday = next_monday()
    book(studio_a, ann, session_type, at(monday, "09:00"))
    eleven = at(monday, "11:00")

    first = hold_any(studio_a, session_type, eleven, email="one@example.com")
    second = hold_any(studio_a, session_type, eleven, email="two@example.com")
    third = hold_any(studio_a, session_type, eleven, email="three@example.com")

    assert [first.trainer, second.trainer, third.trainer] == [ben, cat, ann]
    with pytest.raises(services.SlotUnavailable) as taken:
        hold_any(studio_a, session_type, eleven, email="four@example.com")
    assert (taken.value.status_code, taken.value.message) == (
        409,
        "This time was just taken with every trainer who offers this session.",
    )


def test_a_trainer_whose_calendar_is_full_of_holds_is_skipped(studio_a, team, settings):
    settings.BOOKING_HOLDS_LIVE_PER_TRAINER = 2
    ann, ben, cat, session_type = team
    monday = next_monday()
    for trainer in (ben, cat):
        book(studio_a, trainer, session_type, at(monday, "09:00"))
    live_holds(studio_a, ann, 2, at(monday, "09:00"))  # Ann has the fewest sessions, but two live holds

    held = hold_any(studio_a, session_type, at(monday, "10:00"))

    assert held.trainer == ben


def test_when_every_free_trainer_is_full_of_holds_the_guest_hears_429(studio_a, team, settings):
    settings.BOOKING_HOLDS_LIVE_PER_TRAINER = 1
    ann, ben, cat, session_type = team
    monday = next_monday()
    book(studio_a, cat, session_type, at(monday, "10:00"))  # Cat is taken then; Ann and Ben are full
    for trainer in (ann, ben):
        live_holds(studio_a, trainer, 1, at(monday, "09:00"))

    with pytest.raises(holds.TrainerHoldsFull) as refused:
        hold_any(studio_a, session_type, at(monday, "10:00"))

    assert (refused.value.status_code, refused.value.code) == (429, "trainer_holds_full")
    assert "Sign in" in refused.value.message and "a few minutes" in refused.value.message
    with tenant_context(studio_a):
        assert BookingHold.objects.count() == 2
        BookingHold.objects.filter(trainer=ben).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert hold_any(studio_a, session_type, at(monday, "10:00")).trainer == ben  # an expired hold frees room


def test_a_start_no_trainer_offers_and_a_past_start_are_refused(studio_a, team):
    *_, session_type = team

    with pytest.raises(services.NotASlot):
        hold_any(studio_a, session_type, at(next_monday(), "13:00"))
    with pytest.raises(services.StartInPast):
        hold_any(studio_a, session_type, timezone.now() - timedelta(hours=1))
    with tenant_context(studio_a):
        assert not BookingHold.objects.exists()


def test_the_guests_details_are_checked_and_guests_turned_off_are_refused(studio_a, team, monkeypatch):
    *_, session_type = team

    with pytest.raises(ValidationFailed) as invalid:
        hold_any(studio_a, session_type, at(next_monday(), "10:00"), first_name="", email="nope", phone="12")
    assert set(invalid.value.fields) == {"first_name", "email", "phone"}
    monkeypatch.setattr(studio_a, "guest_booking_enabled", False)
    with pytest.raises(holds.GuestBookingDisabled) as disabled:
        hold_any(studio_a, session_type, at(next_monday(), "10:00"))
    assert disabled.value.status_code == 403
    with tenant_context(studio_a):
        assert not BookingHold.objects.exists()


def test_an_inactive_session_type_is_refused(studio_a, team):
    *_, session_type = team
    with tenant_context(studio_a):
        SessionType.objects.filter(pk=session_type.pk).update(is_active=False)
        session_type.refresh_from_db()

    with pytest.raises(services.NotTakingBookings):
        hold_any(studio_a, session_type, at(next_monday(), "10:00"))


def test_the_session_type_of_another_studio_holds_nothing_here(studio_a, studio_b, team):
    *_, session_type = team

    with tenant_context(studio_b), pytest.raises(services.NotASlot):
        holds.hold_create_any_trainer(session_type=session_type, start_time=at(next_monday(), "10:00"), **GUEST)
    with tenant_context(studio_a):
        assert not BookingHold.objects.exists()


# -- the race --------------------------------------------------------------------------------------------

COACHES = ("Hold Any Coach 1", "Hold Any Coach 2")
GUESTS = 3


@contextlib.contextmanager
def committed_team(studio):
    """Two trainers, 09:00-12:00 every day, one session type: committed, then removed with their holds."""

    def create():
        with tenant_context(studio):
            session_type = SessionType.objects.create(name="Hold Any", duration_minutes=60, price=10, currency="GBP")
            trainer_ids = []
            for index, name in enumerate(COACHES):
                user = User.objects.create_user(f"hold-any-coach{index}@alpha.test", role=Role.TRAINER)
                trainer = Trainer.objects.create(user=user, display_name=name, timezone="Europe/London")
                for day in range(7):
                    AvailabilitySlot.objects.create(
                        trainer=trainer, day_of_week=day, start_time=time(9), end_time=time(12)
                    )
                session_type.trainers.add(trainer)
                trainer_ids.append(trainer.pk)
            return trainer_ids, session_type.pk

    def remove():
        with tenant_context(studio):
            BookingHold.objects.filter(trainer__display_name__in=COACHES).delete()
            BookingEvent.objects.filter(booking__trainer__display_name__in=COACHES).delete()
            Booking.objects.filter(trainer__display_name__in=COACHES).delete()
            SessionType.objects.filter(name="Hold Any").delete()
            Trainer.objects.filter(display_name__in=COACHES).delete()
            User.objects.filter(email__startswith="hold-any-coach").delete()

    created = run_committed(create)
    if isinstance(created, Exception):
        run_committed(remove)
        raise created
    try:
        yield created
    finally:
        outcome = run_committed(remove)
        if isinstance(outcome, Exception):
            raise outcome


def race(studio, session_type_id: int, clock: str, count: int) -> list:
    def take(index: int):
        with tenant_context(studio):
            return holds.hold_create_any_trainer(
                session_type=SessionType.objects.get(pk=session_type_id),
                start_time=at(next_monday(), clock),
                **{**GUEST, "email": f"racer{index}@example.com", "client_address": f"198.51.100.{index + 1}"},
            )

    return run_in_threads(count, take)


def committed_holds(studio, trainer_ids) -> list[int]:
    def read():
        with tenant_context(studio):
            return sorted(BookingHold.objects.filter(trainer_id__in=trainer_ids).values_list("trainer_id", flat=True))

    return run_committed(read)


def test_two_guests_hold_the_last_two_trainers_and_a_third_hears_just_taken(studio_a):
    with committed_team(studio_a) as (trainer_ids, session_type_id):
        results = race(studio_a, session_type_id, "10:00", GUESTS)

        held = [result for result in results if isinstance(result, BookingHold)]
        refused = [result for result in results if isinstance(result, services.SlotUnavailable)]
        assert (len(held), len(refused)) == (2, 1), results
        assert {hold.trainer_id for hold in held} == set(trainer_ids)
        assert refused[0].status_code == 409
        assert committed_holds(studio_a, trainer_ids) == sorted(trainer_ids)


def test_guests_racing_on_two_trainers_cant_pass_the_studios_last_place(studio_a, settings):
    """Two trainers, two locks: the studio's count is serialised by its own lock, so one place is one hold."""
    settings.BOOKING_HOLDS_LIVE_PER_STUDIO = 1
    with committed_team(studio_a) as (trainer_ids, session_type_id):

        def take(index: int):
            with tenant_context(studio_a):
                return holds.hold_create(
                    trainer=Trainer.objects.get(pk=trainer_ids[index]),
                    session_type=SessionType.objects.get(pk=session_type_id),
                    start_time=at(next_monday(), "10:00"),
                    **{**GUEST, "email": f"racer{index}@example.com", "client_address": f"198.51.100.{index + 1}"},
                )

        results = run_in_threads(2, take)

        held = [result for result in results if isinstance(result, BookingHold)]
        refused = [result for result in results if isinstance(result, holds.StudioHoldsFull)]
        assert (len(held), len(refused)) == (1, 1), results
        assert len(committed_holds(studio_a, trainer_ids)) == 1
