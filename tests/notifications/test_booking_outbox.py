"""A booking's messages are rows written in the booking's own transaction: the client's mail for the event, and
the reminders, moved by a reschedule, kept by a handover (same time, another trainer) and cancelled by a
cancellation."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role
from tenant_apps.bookings import services
from tenant_apps.bookings.models import Booking
from tenant_apps.notifications.models import Notification
from tenant_apps.notifications.services import booking_notifications_write, notifications_send_due
from tests.bookings.conftest import at
from tests.conftest import make_user, next_monday
from tests.factories import TrainerFactory
from tests.notifications.conftest import rows

pytestmark = pytest.mark.django_db


def test_a_booking_writes_its_confirmation_and_both_reminders(
    studio_a, make_booking, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = make_booking()

    start = booking.start_time
    assert rows(studio_a, booking) == [
        ("booking_confirmed", "sent", mock.ANY),
        ("staff_booking_new", "sent", mock.ANY),
        ("reminder_24h", "pending", start - timedelta(hours=24)),
        ("reminder_1h", "pending", start - timedelta(hours=1)),
    ]
    # The confirmation and the trainer's notice went after commit; the reminders wait for the sweep.
    assert [message.subject for message in mail.outbox] == [
        f"Booked: PT 60 on {at(next_monday(2), '10:00'):%a %-d %b}, 10:00",
        f"New booking: {booking.client.full_name}, PT 60 on {at(next_monday(2), '10:00'):%a %-d %b}, 10:00",
    ]


def test_a_refused_booking_leaves_no_rows(studio_a, make_booking):
    # Counted as a difference: browser tests' servers commit rows of their own, which may outlive their bookings.
    with tenant_context(studio_a):
        before = Notification.objects.count()
    make_booking()
    with tenant_context(studio_a):
        after_first = Notification.objects.count()

    with pytest.raises(services.SlotUnavailable), tenant_context(studio_a):
        make_booking()

    with tenant_context(studio_a):
        assert after_first > before
        assert Notification.objects.count() == after_first


def test_rows_and_booking_go_together_when_the_transaction_fails_late(studio_a, make_booking):
    with tenant_context(studio_a):
        before = (Booking.objects.count(), Notification.objects.count())
    with (
        mock.patch("tenant_apps.notifications.services._reminders_write", side_effect=RuntimeError("late failure")),
        pytest.raises(RuntimeError),
    ):
        make_booking()

    with tenant_context(studio_a):
        assert (Booking.objects.count(), Notification.objects.count()) == before


@pytest.mark.parametrize(
    ("ahead", "reminders"),
    [
        (timedelta(hours=30), ["reminder_24h", "reminder_1h"]),
        (timedelta(hours=26), ["reminder_24h", "reminder_1h"]),  # the 24 h one exactly 2 h from now
        (timedelta(hours=25, minutes=59), ["reminder_1h"]),
        (timedelta(hours=3), ["reminder_1h"]),
        (timedelta(hours=1, minutes=15), ["reminder_1h"]),  # the 1 h one exactly 15 minutes from now
        (timedelta(hours=1, minutes=14), []),
        (timedelta(minutes=20), []),
    ],
)
def test_a_reminder_is_written_only_when_it_goes_well_after_the_confirmation(studio_a, make_booking, ahead, reminders):
    booking = make_booking()
    now = booking.start_time - ahead

    with tenant_context(studio_a):
        # Written as for a request confirmed at ``now``: no reminder of its start yet.
        Notification.objects.filter(booking=booking, kind__startswith="reminder").delete()
        booking_notifications_write(booking=booking, event="booking_confirmed", now=now)

    assert [kind for kind, _status, _at in rows(studio_a, booking, status="pending", kind__startswith="reminder")] == (
        reminders
    )


def test_a_pending_request_gets_its_reminders_when_confirmed(studio_a, schedule_a, make_booking, owner_a):
    _trainer, session_type = schedule_a
    with tenant_context(studio_a):
        session_type.requires_confirmation = True
        session_type.save()
    booking = make_booking()
    assert [kind for kind, _status, _at in rows(studio_a, booking)] == ["booking_requested", "staff_booking_new"]

    with tenant_context(studio_a):
        services.booking_confirm(booking=booking, actor=owner_a)

    assert [kind for kind, _status, _at in rows(studio_a, booking)] == [
        "booking_requested",
        "staff_booking_new",
        "booking_confirmed",
        "reminder_24h",
        "reminder_1h",
    ]


def test_a_reschedule_replaces_the_pending_reminders(studio_a, make_booking, owner_a):
    booking = make_booking()
    new_start = at(next_monday(2) + timedelta(days=1), "11:00")

    with tenant_context(studio_a):
        services.booking_reschedule(booking=booking, start_time=new_start, actor=owner_a)

    old = booking.start_time
    assert rows(studio_a, booking, kind__startswith="reminder") == [
        ("reminder_24h", "cancelled", old - timedelta(hours=24)),
        ("reminder_1h", "cancelled", old - timedelta(hours=1)),
        ("reminder_24h", "pending", new_start - timedelta(hours=24)),
        ("reminder_1h", "pending", new_start - timedelta(hours=1)),
    ]
    assert ("booking_rescheduled", "pending", mock.ANY) in rows(studio_a, booking)


def test_a_cancellation_cancels_the_pending_reminders_and_leaves_sent_ones(studio_a, make_booking, owner_a):
    booking = make_booking()
    with tenant_context(studio_a):
        Notification.objects.filter(kind="reminder_24h").update(status="sent")

        services.booking_cancel(booking=booking, actor=owner_a)

    assert [(kind, status) for kind, status, _at in rows(studio_a, booking)] == [
        ("booking_confirmed", "pending"),
        ("staff_booking_new", "pending"),
        ("reminder_24h", "sent"),
        ("reminder_1h", "cancelled"),
        ("booking_cancelled", "pending"),
        ("staff_booking_cancelled", "pending"),
    ]


# -- a handover: the same time, another trainer ------------------------------------------------------------


@pytest.fixture
def colin(studio_a, schedule_a):
    """Another trainer of studio A who offers the session type: a handover's destination."""
    _trainer, session_type = schedule_a
    with tenant_context(studio_a):
        trainer = TrainerFactory(
            user=make_user(studio_a, role=Role.TRAINER, email="colin@alpha.test"), display_name="Colin Coach"
        )
        session_type.trainers.add(trainer)
    return trainer


def reminder_rows(studio, booking) -> list[tuple]:
    """(id, kind, status, send_after) of the booking's reminders, oldest first."""
    with tenant_context(studio):
        return list(
            Notification.objects.filter(booking=booking, kind__startswith="reminder")
            .order_by("id")
            .values_list("id", "kind", "status", "send_after")
        )


def test_a_handover_days_ahead_keeps_the_pending_reminders_as_they_are(studio_a, make_booking, owner_a, colin):
    booking = make_booking()
    before = reminder_rows(studio_a, booking)

    with tenant_context(studio_a):
        services.booking_reschedule(
            booking=booking, start_time=booking.start_time, trainer=colin, actor=owner_a, off_grid=True
        )

    # The same rows, still pending: none cancelled, none written again.
    assert reminder_rows(studio_a, booking) == before
    assert [status for _id, _kind, status, _at in before] == ["pending", "pending"]
    assert ("booking_rescheduled", "pending", mock.ANY) in rows(studio_a, booking)


@pytest.mark.parametrize("hour_reminder", ["pending", "sent"])
def test_a_handover_half_an_hour_before_neither_drops_nor_repeats_the_hour_reminder(
    studio_a, make_booking, owner_a, colin, hour_reminder
):
    booking = make_booking()
    now = booking.start_time - timedelta(minutes=30)
    with tenant_context(studio_a):
        # The day-before one went; the hour one went too, or is due and the sweep hasn't reached it yet.
        Notification.objects.filter(booking=booking, kind="reminder_24h").update(status="sent")
        Notification.objects.filter(booking=booking, kind="reminder_1h").update(status=hour_reminder)
    before = reminder_rows(studio_a, booking)

    with tenant_context(studio_a):
        # Off the grid: inside the session type's notice only staff can still move it.
        services.booking_reschedule(
            booking=booking, start_time=booking.start_time, trainer=colin, actor=owner_a, off_grid=True, now=now
        )
        notifications_send_due(now=now)

    assert reminder_rows(studio_a, booking) == [(pk, kind, "sent", at) for pk, kind, _status, at in before]
    reminders = [message for message in mail.outbox if message.subject.startswith("Reminder:")]
    assert len(reminders) == (hour_reminder == "pending")
    # Rendered at send time: the trainer who now teaches it.
    assert all("with Colin Coach" in message.body for message in reminders)
