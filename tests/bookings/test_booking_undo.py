"""Undo a mistaken completed or no-show within BOOKING_UNDO_DAYS: back to confirmed, the trainer's count and the
ledger corrected, the history kept."""

from datetime import timedelta

import pytest
from django_tenants.utils import tenant_context

from tenant_apps.bookings import services
from tenant_apps.bookings.models import Booking
from tenant_apps.packages import services as package_services
from tenant_apps.packages.models import ClientPackage
from tenant_apps.trainers.models import SessionType, Trainer
from tests.bookings.conftest import STAFF_MATRIX, ledger, sell
from tests.conftest import next_monday
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pack(studio_a, booking_client_a):
    with tenant_context(studio_a):
        return sell(booking_client_a, sessions_count=5)


def sessions_of(studio, trainer) -> int:
    with tenant_context(studio):
        return Trainer.objects.get(pk=trainer.pk).total_sessions


def kinds(studio, booking) -> list[str]:
    with tenant_context(studio):
        return list(booking.events.values_list("kind", flat=True))


def test_undoing_a_completed_session_lowers_the_trainer_s_count_and_keeps_the_credit_spent(
    studio_a, schedule_a, make_booking, pack, manager_a
):
    booking = make_booking(client_package=pack)
    later = booking.start_time + timedelta(hours=1)
    with tenant_context(studio_a):
        services.booking_complete(booking=booking, actor=manager_a, now=later)
    assert sessions_of(studio_a, schedule_a[0]) == 1

    with tenant_context(studio_a):
        undone = services.booking_undo(booking=booking, actor=manager_a, now=later + timedelta(days=2))

    assert (undone.status, undone.payment_state) == ("confirmed", "credit")
    assert sessions_of(studio_a, schedule_a[0]) == 0
    assert ledger(studio_a, pack)[0] == 4
    assert kinds(studio_a, booking) == ["created", "completed", "undone"]


def test_undoing_a_no_show_that_forfeited_the_credit_moves_no_credit(studio_a, make_booking, pack, trainer_a):
    booking = make_booking(client_package=pack)
    with tenant_context(studio_a):
        services.booking_no_show(booking=booking, actor=trainer_a, now=booking.start_time + timedelta(minutes=15))
        services.booking_undo(booking=booking, actor=trainer_a, now=booking.start_time + timedelta(hours=1))

    assert ledger(studio_a, pack) == (4, [("purchase", 5, None, 0), ("booking", -1, booking.pk, 0)])


def test_undoing_a_lenient_no_show_spends_the_returned_credit_again_in_a_new_round(
    studio_a, schedule_a, make_booking, pack, trainer_a
):
    with tenant_context(studio_a):
        SessionType.objects.filter(pk=schedule_a[1].pk).update(no_show_forfeits_credit=False)
    booking = make_booking(client_package=pack)
    after = booking.start_time + timedelta(minutes=15)
    with tenant_context(studio_a):
        services.booking_no_show(booking=booking, actor=trainer_a, now=after)
        undone = services.booking_undo(booking=booking, actor=trainer_a, now=after)
        # A second mistake and its undo: each round debits once and refunds at most once.
        services.booking_no_show(booking=booking, actor=trainer_a, now=after)
        services.booking_undo(booking=booking, actor=trainer_a, now=after)

    assert (undone.status, undone.credit_returned) == ("confirmed", False)
    assert ledger(studio_a, pack) == (
        4,
        [
            ("purchase", 5, None, 0),
            ("booking", -1, booking.pk, 0),
            ("refund", 1, booking.pk, 0),
            ("booking", -1, booking.pk, 1),
            ("refund", 1, booking.pk, 1),
            ("booking", -1, booking.pk, 2),
        ],
    )


def test_undoing_a_lenient_no_show_whose_package_is_used_up_leaves_it_unpaid(
    studio_a, schedule_a, make_booking, pack, trainer_a
):
    with tenant_context(studio_a):
        SessionType.objects.filter(pk=schedule_a[1].pk).update(no_show_forfeits_credit=False)
    booking = make_booking(client_package=pack)
    after = booking.start_time + timedelta(minutes=15)
    with tenant_context(studio_a):
        services.booking_no_show(booking=booking, actor=trainer_a, now=after)
        package_services.client_package_adjust(client_package=pack, delta=-5, reason="Used up", actor=None)
        undone = services.booking_undo(booking=booking, actor=trainer_a, now=after)
        note = undone.events.last().note

    assert (undone.status, undone.payment_state, undone.client_package_id) == ("confirmed", "unpaid", None)
    assert "unpaid" in note
    assert ledger(studio_a, pack)[0] == 0


def test_a_package_attached_after_an_undo_left_it_unpaid_pays_in_a_new_credit_round(
    studio_a, schedule_a, make_booking, pack, trainer_a, manager_a, booking_client_a, as_user
):
    """Round 0 holds the first package's debit and the no-show's refund; the package attached afterwards debits
    in round 1 (not a second round-0 debit, which the ledger's one-debit-per-round rule refuses)."""
    with tenant_context(studio_a):
        SessionType.objects.filter(pk=schedule_a[1].pk).update(no_show_forfeits_credit=False)
    booking = make_booking(client_package=pack)
    after = booking.start_time + timedelta(minutes=15)
    with tenant_context(studio_a):
        services.booking_no_show(booking=booking, actor=trainer_a, now=after)
        package_services.client_package_adjust(client_package=pack, delta=-5, reason="Used up", actor=None)
        services.booking_undo(booking=booking, actor=trainer_a, now=after)
        other = sell(booking_client_a, name="Three", sessions_count=3)

    response = as_user(manager_a).post(f"/api/bookings/{booking.pk}/attach-package/", {"client_package": other.pk})

    assert response.status_code == 200, response.json()
    assert (response.json()["payment_state"], response.json()["client_package"]) == ("credit", other.pk)
    assert ledger(studio_a, other) == (2, [("purchase", 3, None, 0), ("booking", -1, booking.pk, 1)])
    assert ledger(studio_a, pack)[1][1:3] == [("booking", -1, booking.pk, 0), ("refund", 1, booking.pk, 0)]


def test_undo_is_refused_after_the_configured_days(studio_a, make_booking, manager_a, settings):
    settings.BOOKING_UNDO_DAYS = 3
    booking = make_booking()
    with tenant_context(studio_a):
        services.booking_complete(booking=booking, actor=manager_a, now=booking.end_time)
        with pytest.raises(services.UndoWindowPassed):
            services.booking_undo(booking=booking, actor=manager_a, now=booking.end_time + timedelta(days=3, minutes=1))
        inside = services.booking_undo(booking=booking, actor=manager_a, now=booking.end_time + timedelta(days=3))

    assert inside.status == "confirmed"


def test_a_past_session_recorded_today_can_be_undone_for_the_configured_days(studio_a, make_booking, manager_a):
    """Recorded long after it took place (history moved in): the days count from the recording."""
    from django.utils import timezone

    long_ago = timezone.now() - timedelta(days=60)
    booking = make_booking(day=long_ago.date(), off_grid=True, created_by=manager_a)
    assert booking.status == "completed"

    with tenant_context(studio_a):
        undone = services.booking_undo(booking=booking, actor=manager_a)

    assert undone.status == "confirmed"


def test_the_undo_deadline_counts_from_the_session_s_end_or_a_later_marking(
    studio_a, make_booking, manager_a, settings
):
    settings.BOOKING_UNDO_DAYS = 3
    on_time, late = make_booking(clock="10:00"), make_booking(clock="11:00")
    with tenant_context(studio_a):
        services.booking_complete(booking=on_time, actor=manager_a, now=on_time.start_time + timedelta(minutes=30))
        services.booking_no_show(booking=late, actor=manager_a, now=late.start_time + timedelta(minutes=5))
        # Marked two days after the session (the marking's time is its history entry's).
        marked_at = late.end_time + timedelta(days=2)
        late.events.filter(to_status="no_show").update(created=marked_at)
        on_time = Booking.objects.get(pk=on_time.pk)
        late = Booking.objects.get(pk=late.pk)

        deadlines = [services.booking_undo_deadline(booking) for booking in (on_time, late)]
        # The same from a history the caller read already (no query).
        from_history = services.booking_undo_deadline(late, events=list(late.events.all()))

    assert deadlines == [on_time.end_time + timedelta(days=3), marked_at + timedelta(days=3)]
    assert from_history == marked_at + timedelta(days=3)


def test_the_undo_deadline_is_the_one_booking_undo_keeps(studio_a, make_booking, manager_a, settings):
    settings.BOOKING_UNDO_DAYS = 3
    booking = make_booking()
    with tenant_context(studio_a):
        services.booking_complete(booking=booking, actor=manager_a, now=booking.end_time)
        deadline = services.booking_undo_deadline(Booking.objects.get(pk=booking.pk))
        with pytest.raises(services.UndoWindowPassed):
            services.booking_undo(booking=booking, actor=manager_a, now=deadline + timedelta(seconds=1))
        undone = services.booking_undo(booking=booking, actor=manager_a, now=deadline)

    assert undone.status == "confirmed"


@pytest.mark.parametrize("status", ["confirmed", "cancelled", "pending"])
def test_nothing_but_completed_or_no_show_has_an_undo_deadline(studio_a, make_booking, status):
    booking = make_booking()
    with tenant_context(studio_a):
        Booking.objects.filter(pk=booking.pk).update(status=status)
        assert services.booking_undo_deadline(Booking.objects.get(pk=booking.pk)) is None


@pytest.mark.parametrize("status", ["confirmed", "cancelled", "pending"])
def test_only_completed_or_no_show_can_be_undone(studio_a, make_booking, manager_a, status):
    booking = make_booking()
    with tenant_context(studio_a):
        Booking.objects.filter(pk=booking.pk).update(status=status)
        with pytest.raises(services.InvalidTransition):
            services.booking_undo(booking=booking, actor=manager_a)


def test_undo_is_refused_when_the_time_was_booked_again_meanwhile(studio_a, make_booking, manager_a, settings):
    """Confirmed holds the trainer's time again: if another active booking took it, the undo is a 409."""
    booking = make_booking(clock="10:00")
    with tenant_context(studio_a):
        Booking.objects.filter(pk=booking.pk).update(status="no_show")
    with tenant_context(studio_a):
        someone = ClientFactory()
    make_booking(clock="10:00", client=someone)

    with tenant_context(studio_a), pytest.raises(services.SlotUnavailable):
        services.booking_undo(booking=booking, actor=manager_a)


def test_the_undo_endpoint_is_in_the_schema_and_mirrors_the_status_endpoints(as_user, manager_a, make_booking):
    booking = make_booking()

    too_early = as_user(manager_a).post(f"/api/bookings/{booking.pk}/undo/")

    assert (too_early.status_code, too_early.json()["code"]) == (409, "invalid_transition")


@pytest.mark.parametrize("caller", sorted(STAFF_MATRIX))
def test_undo_permission_matrix(callers, caller, studio_a, make_booking, schedule_a):
    booking = make_booking()
    with tenant_context(studio_a):
        Booking.objects.filter(pk=booking.pk).update(status="completed")
        booking.events.create(kind="completed", from_status="confirmed", to_status="completed")
        Trainer.objects.filter(pk=schedule_a[0].pk).update(total_sessions=1)

    response = callers[caller].post(f"/api/bookings/{booking.pk}/undo/")

    assert response.status_code == STAFF_MATRIX[caller], response.content
    expected = ("confirmed", 0) if response.status_code == 200 else ("completed", 1)
    with tenant_context(studio_a):
        assert (Booking.objects.get(pk=booking.pk).status, sessions_of(studio_a, schedule_a[0])) == expected


def test_an_expired_package_cannot_pay_again_on_undo(studio_a, schedule_a, make_booking, pack, trainer_a):
    with tenant_context(studio_a):
        SessionType.objects.filter(pk=schedule_a[1].pk).update(no_show_forfeits_credit=False)
    booking = make_booking(client_package=pack)
    with tenant_context(studio_a):
        services.booking_no_show(booking=booking, actor=trainer_a, now=booking.start_time + timedelta(minutes=5))
        ClientPackage.objects.filter(pk=pack.pk).update(status="expired", expiry_date=next_monday())
        undone = services.booking_undo(booking=booking, actor=trainer_a, now=booking.start_time + timedelta(hours=1))

    assert undone.payment_state == "unpaid"
    assert ledger(studio_a, pack)[0] == 5
