"""Staff book off the grid (a walk-in at 10:20, a time agreed by phone) as long as the trainer is free, and record
past sessions that took place; clients can do neither."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.core.exceptions import Forbidden
from tenant_apps.availability.models import TrainerBreak
from tenant_apps.bookings import services
from tenant_apps.bookings.models import Booking
from tenant_apps.trainers.models import Trainer
from tests.bookings.conftest import at, ledger, sell
from tests.conftest import next_monday

pytestmark = pytest.mark.django_db
URL = "/api/bookings/"


def body(schedule, client, start, **extra) -> dict:
    trainer, session_type = schedule
    return {
        "trainer": trainer.pk,
        "session_type": session_type.pk,
        "client": client.pk,
        "start_time": start.isoformat(),
        **extra,
    }


def test_staff_book_a_walk_in_at_10_20_off_the_grid(as_user, manager_a, schedule_a, booking_client_a, studio_a):
    start = at(next_monday(), "10:20")

    on_grid = as_user(manager_a).post(URL, body(schedule_a, booking_client_a, start))
    off_grid = as_user(manager_a).post(URL, body(schedule_a, booking_client_a, start, off_grid=True))

    assert (on_grid.status_code, on_grid.json()["code"]) == (400, "not_a_slot")
    assert off_grid.status_code == 201, off_grid.json()
    assert off_grid.json()["status"] == "confirmed"
    history = as_user(manager_a).get(f"/api/bookings/{off_grid.json()['id']}/history/").json()
    assert history[0]["off_grid"] is True


def test_off_the_grid_ignores_windows_and_notice_but_not_other_bookings(
    as_user, trainer_a, schedule_a, booking_client_a, make_booking
):
    make_booking(clock="10:00")
    late_evening = at(next_monday(), "19:00")  # outside the 09:00-12:00 window
    overlapping = at(next_monday(), "10:30")

    evening = as_user(trainer_a).post(URL, body(schedule_a, booking_client_a, late_evening, off_grid=True))
    clash = as_user(trainer_a).post(URL, body(schedule_a, booking_client_a, overlapping, off_grid=True))

    assert evening.status_code == 201, evening.json()
    assert (clash.status_code, clash.json()["code"]) == (409, "slot_unavailable")


def test_off_the_grid_respects_buffers_and_breaks(studio_a, schedule_a, booking_client_a, make_booking, manager_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        session_type.buffer_after_minutes = 30
        session_type.save()
        TrainerBreak.objects.create(
            trainer=trainer, starts_at=at(next_monday(), "14:00"), ends_at=at(next_monday(), "15:00"), reason="Lunch"
        )
    make_booking(clock="10:00")

    for clock in ("11:10", "14:30", "13:30"):  # inside the buffer, in the break, running into the break
        with tenant_context(studio_a), pytest.raises(services.SlotUnavailable):
            services.booking_create(
                trainer=trainer,
                client=booking_client_a,
                session_type=session_type,
                start_time=at(next_monday(), clock),
                off_grid=True,
                created_by=manager_a,
            )
    assert make_booking(clock="11:30", off_grid=True, created_by=manager_a).status == "confirmed"


def test_a_client_cannot_book_off_the_grid(as_user, client_a, schedule_a, booking_client_a, studio_a):
    trainer, session_type = schedule_a
    response = as_user(client_a).post(
        URL,
        {
            "trainer": trainer.pk,
            "session_type": session_type.pk,
            "start_time": at(next_monday(), "10:20").isoformat(),
            "off_grid": True,
        },
    )

    assert response.status_code == 403
    with tenant_context(studio_a):
        assert not Booking.objects.exists()
        with pytest.raises(Forbidden):
            services.booking_create(
                trainer=trainer,
                client=booking_client_a,
                session_type=session_type,
                start_time=at(next_monday(), "10:20"),
                off_grid=True,
                created_by=client_a,
            )


def test_a_trainer_books_off_the_grid_into_their_own_calendar_only(
    as_user, trainer_a, colleague_a, schedule_a, booking_client_a, make_booking
):
    _, session_type = schedule_a
    make_booking(clock="09:00")  # Cleo is Tess's client now
    response = as_user(trainer_a).post(
        URL,
        {
            "trainer": colleague_a.pk,
            "session_type": session_type.pk,
            "client": booking_client_a.pk,
            "start_time": at(next_monday(), "10:20").isoformat(),
            "off_grid": True,
        },
    )

    assert response.status_code == 403


def test_a_past_session_is_recorded_completed_with_its_credit_debited(
    as_user, manager_a, schedule_a, booking_client_a, studio_a, django_capture_on_commit_callbacks
):
    with tenant_context(studio_a):
        pack = sell(booking_client_a, name="Ten")
    last_week = timezone.now() - timedelta(days=7)
    start = last_week.replace(minute=0, second=0, microsecond=0)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(manager_a).post(URL, body(schedule_a, booking_client_a, start, off_grid=True))

    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["status"], created["payment_state"], created["client_package"]) == ("completed", "credit", pack.pk)
    assert created["confirmation_sent"] is False
    assert mail.outbox == []
    assert ledger(studio_a, pack)[0] == 9
    with tenant_context(studio_a):
        assert Trainer.objects.get(pk=schedule_a[0].pk).total_sessions == 1
        history = list(Booking.objects.get(pk=created["id"]).events.values_list("kind", "to_status", "off_grid"))
    assert history == [("created", "completed", True)]


def test_a_past_session_cannot_overlap_one_that_took_place(make_booking, manager_a, studio_a):
    start = timezone.now() - timedelta(days=3)
    first = make_booking(day=start.date(), clock="10:00", off_grid=True, created_by=manager_a)
    assert first.status == "completed"

    with pytest.raises(services.SlotUnavailable):
        make_booking(day=start.date(), clock="10:30", off_grid=True, created_by=manager_a)


def test_a_start_in_the_past_needs_the_flag_and_a_staff_caller(
    as_user, manager_a, client_a, schedule_a, booking_client_a
):
    trainer, session_type = schedule_a
    yesterday = timezone.now() - timedelta(days=1)

    by_staff = as_user(manager_a).post(URL, body(schedule_a, booking_client_a, yesterday))
    by_client = as_user(client_a).post(
        URL,
        {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": yesterday.isoformat(), "off_grid": True},
    )

    assert (by_staff.status_code, by_staff.json()["code"]) == (400, "start_in_past")
    assert by_client.status_code == 403


def test_staff_can_move_a_booking_off_the_grid_but_a_client_cannot(as_user, manager_a, client_a, make_booking):
    booking = make_booking()
    new_start = at(next_monday(), "10:20").isoformat()

    by_client = as_user(client_a).post(
        f"/api/bookings/{booking.pk}/reschedule/", {"start_time": new_start, "off_grid": True}
    )
    by_staff = as_user(manager_a).post(
        f"/api/bookings/{booking.pk}/reschedule/", {"start_time": new_start, "off_grid": True}
    )

    assert by_client.status_code == 403
    assert by_staff.status_code == 200, by_staff.json()
    assert by_staff.json()["start_time"].endswith("10:20:00Z")
