"""Confirm, cancel (timely and late), complete, no-show, reschedule, notes, history; illegal moves are 409s."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenant_apps.bookings import services
from tenant_apps.bookings.models import Booking, BookingStatus
from tests.conftest import next_monday
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def at(day, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=LONDON)


@pytest.fixture
def booking(studio_a, schedule_a, booking_client_a, manager_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        return services.booking_create(
            trainer=trainer,
            client=booking_client_a,
            session_type=session_type,
            start_time=at(next_monday(), "10:00"),
            created_by=manager_a,
        )


def status_of(studio, booking) -> str:
    with tenant_context(studio):
        return Booking.objects.get(pk=booking.pk).status


def test_staff_confirm_a_pending_booking(as_user, manager_a, booking, studio_a):
    with tenant_context(studio_a):
        Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.PENDING)

    response = as_user(manager_a).post(f"/api/bookings/{booking.pk}/confirm/")

    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"


def test_a_client_cannot_confirm_their_own_booking(as_user, client_a, booking, studio_a):
    with tenant_context(studio_a):
        Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.PENDING)

    response = as_user(client_a).post(f"/api/bookings/{booking.pk}/confirm/")

    assert response.status_code == 403
    assert status_of(studio_a, booking) == "pending"


def test_a_timely_cancellation_is_not_late(as_user, client_a, booking, studio_a):
    response = as_user(client_a).post(f"/api/bookings/{booking.pk}/cancel/", {"reason": "Travelling"})

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["is_late_cancellation"] is False
    assert response.json()["cancellation_reason"] == "Travelling"


def test_a_cancellation_inside_the_window_is_marked_late(booking, studio_a, client_a):
    with tenant_context(studio_a):
        cancelled = services.booking_cancel(
            booking=booking, actor=client_a, reason="Sick", now=booking.start_time - timedelta(hours=3)
        )

    assert cancelled.is_late_cancellation is True


def test_delete_cancels_and_keeps_the_history(as_user, manager_a, booking, studio_a):
    response = as_user(manager_a).delete(f"/api/bookings/{booking.pk}/")
    history = as_user(manager_a).get(f"/api/bookings/{booking.pk}/history/")

    assert response.status_code == 200
    assert status_of(studio_a, booking) == "cancelled"
    assert [event["kind"] for event in history.json()] == ["created", "cancelled"]
    assert history.json()[1]["from_status"] == "confirmed"
    assert history.json()[1]["actor"] == manager_a.pk


def test_a_cancelled_slot_can_be_booked_again(as_user, manager_a, booking, studio_a, schedule_a):
    trainer, session_type = schedule_a
    as_user(manager_a).post(f"/api/bookings/{booking.pk}/cancel/")
    with tenant_context(studio_a):
        someone = ClientFactory()

    response = as_user(manager_a).post(
        "/api/bookings/",
        {
            "trainer": trainer.pk,
            "session_type": session_type.pk,
            "client": someone.pk,
            "start_time": booking.start_time.isoformat(),
        },
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("cancel", "complete"),
        ("cancel", "confirm"),
        ("cancel", "cancel"),
        ("cancel", "no-show"),
        ("confirm", "confirm"),
    ],
)
def test_illegal_moves_are_409(as_user, manager_a, booking, studio_a, first, then):
    as_user(manager_a).post(f"/api/bookings/{booking.pk}/{first}/")

    response = as_user(manager_a).post(f"/api/bookings/{booking.pk}/{then}/")

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_a_session_is_completed_or_a_no_show_only_once_it_started(as_user, manager_a, booking, studio_a):
    too_early = as_user(manager_a).post(f"/api/bookings/{booking.pk}/complete/")
    with tenant_context(studio_a):
        done = services.booking_complete(booking=booking, actor=manager_a, now=booking.start_time + timedelta(hours=1))
        from tenant_apps.trainers.models import Trainer

        sessions = Trainer.objects.get(pk=booking.trainer_id).total_sessions

    assert (too_early.status_code, too_early.json()["code"]) == (409, "session_not_started")
    assert done.status == "completed"
    assert sessions == 1


def test_no_show(booking, studio_a, trainer_a):
    with tenant_context(studio_a):
        missed = services.booking_no_show(booking=booking, actor=trainer_a, now=booking.start_time + timedelta(hours=2))
        events = list(missed.events.values_list("kind", flat=True))

    assert missed.status == "no_show"
    assert events == ["created", "no_show"]


def test_reschedule_moves_the_booking_and_records_it(as_user, client_a, booking, studio_a):
    new_start = at(next_monday(), "11:00")

    response = as_user(client_a).post(f"/api/bookings/{booking.pk}/reschedule/", {"start_time": new_start.isoformat()})
    history = as_user(client_a).get(f"/api/bookings/{booking.pk}/history/").json()

    assert response.status_code == 200
    assert response.json()["start_time"] == new_start.astimezone(timezone.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert history[-1]["kind"] == "rescheduled"
    assert history[-1]["previous_start_time"] == booking.start_time.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_reschedule_into_a_taken_slot_or_off_the_grid_changes_nothing(
    as_user, manager_a, booking, studio_a, schedule_a
):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        other = services.booking_create(
            trainer=trainer, client=ClientFactory(), session_type=session_type, start_time=at(next_monday(), "11:00")
        )

    taken = as_user(manager_a).post(
        f"/api/bookings/{booking.pk}/reschedule/", {"start_time": other.start_time.isoformat()}
    )
    off_grid = as_user(manager_a).post(
        f"/api/bookings/{booking.pk}/reschedule/", {"start_time": at(next_monday(), "10:15").isoformat()}
    )

    assert (taken.status_code, taken.json()["code"]) == (409, "slot_unavailable")
    assert (off_grid.status_code, off_grid.json()["code"]) == (400, "not_a_slot")
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).start_time == booking.start_time


def test_a_booking_can_move_into_time_its_own_old_slot_overlapped(studio_a, schedule_a, manager_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        session_type.slot_interval_minutes = 30
        session_type.save()
        booked = services.booking_create(
            trainer=trainer, client=ClientFactory(), session_type=session_type, start_time=at(next_monday(), "09:00")
        )
        moved = services.booking_reschedule(booking=booked, start_time=at(next_monday(), "09:30"), actor=manager_a)

    assert moved.start_time == at(next_monday(), "09:30")


def test_a_client_cannot_move_a_booking_inside_the_cancellation_window(booking, studio_a, client_a):
    from shared_apps.core.exceptions import Conflict

    with tenant_context(studio_a), pytest.raises(Conflict) as refusal:
        services.booking_reschedule(
            booking=booking,
            start_time=at(next_monday(), "11:00"),
            actor=client_a,
            now=booking.start_time - timedelta(hours=2),
        )

    assert refusal.value.code == "reschedule_window_passed"


def test_patch_changes_notes_only(as_user, manager_a, booking):
    notes = as_user(manager_a).patch(f"/api/bookings/{booking.pk}/", {"notes": "Bring a towel"})
    moving = as_user(manager_a).patch(f"/api/bookings/{booking.pk}/", {"start_time": "2030-01-01T10:00:00Z"})

    assert notes.json()["notes"] == "Bring a towel"
    assert moving.status_code == 400
    assert set(moving.json()["fields"]) == {"start_time"}


def test_declining_a_pending_request_is_never_late(booking, studio_a, manager_a):
    with tenant_context(studio_a):
        Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.PENDING)
        declined = services.booking_cancel(
            booking=booking, actor=manager_a, reason="Fully booked", now=booking.start_time - timedelta(hours=1)
        )

    assert declined.status == "cancelled"
    assert declined.is_late_cancellation is False
