"""Sending the outbox: rendered at send time from the booking as it is then, claimed so that nothing goes twice
(two sweeps at once, a broker that was down at booking time), retried with backoff, reminders in the studio's
zone across a DST change."""

from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User
from tenant_apps.availability.models import AvailabilitySlot
from tenant_apps.bookings import services
from tenant_apps.bookings.models import Booking, BookingEvent
from tenant_apps.clients.models import Client
from tenant_apps.clients.services import client_erase
from tenant_apps.notifications.models import Notification
from tenant_apps.notifications.services import (
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    notification_send,
    notifications_send_due,
)
from tenant_apps.trainers.models import SessionType, Trainer
from tests.bookings.conftest import at
from tests.conftest import next_monday, run_committed, run_in_threads
from tests.notifications.conftest import rows

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def reminder(studio, booking, kind="reminder_24h") -> Notification:
    with tenant_context(studio):
        return Notification.objects.get(booking=booking, kind=kind, status="pending")


def test_a_reminder_is_rendered_from_the_booking_as_it_is_at_send_time(studio_a, schedule_a, make_booking):
    _trainer, session_type = schedule_a
    booking = make_booking()
    row = reminder(studio_a, booking)
    with tenant_context(studio_a):
        # Renamed and the client's address changed since the row was written: the reminder tells what is now.
        SessionType.objects.filter(pk=session_type.pk).update(name="PT Hour")
        Client.objects.filter(pk=booking.client_id).update(email="cleo.new@example.test")

        assert notification_send(notification_id=row.pk, now=row.send_after) == "sent"

    [message] = mail.outbox
    assert message.subject.startswith("Reminder: PT Hour on ") and message.subject.endswith(", 10:00")
    assert "10:00 (Europe/London)" in message.body and "/b/" in message.body
    assert message.from_email == "Alpha Strength <no-reply@localhost>"
    assert message.to == ["cleo.new@example.test"]
    assert rows(studio_a, booking, pk=row.pk, recipient_email="cleo.new@example.test")[0][1] == "sent"


def test_a_reminder_of_a_booking_moved_since_it_was_written_is_cancelled_not_sent(studio_a, make_booking):
    booking = make_booking()
    row = reminder(studio_a, booking)
    with tenant_context(studio_a):
        # Moved behind the outbox's back (as a reschedule that raced the claim of this reminder would).
        Booking.objects.filter(pk=booking.pk).update(
            **{
                field: getattr(booking, field) + timedelta(hours=1)
                for field in ("start_time", "end_time", "blocked_from", "blocked_until")
            }
        )

        assert notification_send(notification_id=row.pk, now=row.send_after) == "cancelled"

    assert mail.outbox == []


@pytest.mark.parametrize("change", [{"is_active": False}, {"erased_at": datetime(2026, 1, 1, tzinfo=UTC)}])
def test_a_message_to_a_client_deactivated_or_erased_since_is_suppressed(studio_a, make_booking, change):
    booking = make_booking()
    row = reminder(studio_a, booking)
    with tenant_context(studio_a):
        Client.objects.filter(pk=booking.client_id).update(**change)

        assert notification_send(notification_id=row.pk, now=row.send_after) == "suppressed"

    assert mail.outbox == []


def test_erasing_a_client_blanks_the_address_on_their_messages_and_suppresses_the_pending_ones(studio_a, make_booking):
    booking = make_booking()
    row = reminder(studio_a, booking)
    with tenant_context(studio_a):
        client_erase(client=booking.client)

        assert set(Notification.objects.filter(client=booking.client).values_list("recipient_email", flat=True)) == {""}
        assert notification_send(notification_id=row.pk, now=row.send_after) == "suppressed"

    assert mail.outbox == []


def test_a_reminder_is_not_sent_before_it_is_due(studio_a, make_booking):
    booking = make_booking()
    row = reminder(studio_a, booking)

    with tenant_context(studio_a):
        assert notification_send(notification_id=row.pk, now=row.send_after - timedelta(seconds=1)) is None

    assert mail.outbox == []
    assert rows(studio_a, booking, pk=row.pk)[0][1] == "pending"


@pytest.mark.parametrize("status", ["cancelled", "completed", "no_show"])
def test_a_reminder_of_a_booking_no_longer_confirmed_is_cancelled_not_sent(studio_a, make_booking, status):
    booking = make_booking()
    row = reminder(studio_a, booking)
    with tenant_context(studio_a):
        # A status change that didn't go through the outbox (the pending reminder is still there).
        Booking.objects.filter(pk=booking.pk).update(status=status)

        assert notification_send(notification_id=row.pk, now=row.send_after) == "cancelled"

    assert mail.outbox == []
    assert rows(studio_a, booking, pk=row.pk)[0][1] == "cancelled"


def test_a_failing_send_is_retried_for_about_a_day_then_marked_failed(studio_a, make_booking):
    booking = make_booking()
    with tenant_context(studio_a):
        # The confirmation: a reminder's retries stop at its session's start (test_outbox_failures).
        row = Notification.objects.get(booking=booking, kind="booking_confirmed")
    # Ahead of the clock for as long as the test runs, so each wait is measured from a known time.
    now = timezone.now() + timedelta(seconds=30)
    waits = []
    with tenant_context(studio_a), mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError):
        assert notification_send(notification_id=row.pk, now=now) == "pending"
        row.refresh_from_db()
        assert (row.attempts, row.last_error) == (1, "OSError: ")
        # Not due again before the backoff has passed.
        assert notification_send(notification_id=row.pk, now=now + timedelta(seconds=30)) is None
        waits.append(row.send_after - now)
        for _attempt in range(MAX_ATTEMPTS - 1):
            now = row.send_after
            result = notification_send(notification_id=row.pk, now=now)
            row.refresh_from_db()
            if result == "pending":
                waits.append(row.send_after - now)

    assert waits == list(RETRY_DELAYS)
    # An ESP down for most of a day loses nothing.
    assert sum(waits, timedelta()) > timedelta(hours=24)
    assert (result, row.status, row.attempts) == ("failed", "failed", MAX_ATTEMPTS)
    assert mail.outbox == []


def test_a_row_whose_worker_keeps_dying_ends_failed_after_the_last_attempt(studio_a, make_booking):
    booking = make_booking()
    row = reminder(studio_a, booking)
    with tenant_context(studio_a):
        # Claimed MAX_ATTEMPTS times, each worker lost while sending.
        Notification.objects.filter(pk=row.pk).update(status="sending", attempts=MAX_ATTEMPTS, updated=row.send_after)

        assert notification_send(notification_id=row.pk, now=row.send_after + timedelta(minutes=11)) == "failed"

    assert mail.outbox == []
    assert rows(studio_a, booking, pk=row.pk)[0][1] == "failed"


def test_a_slow_worker_whose_row_was_claimed_again_does_not_overwrite_the_second_result(studio_a, make_booking):
    booking = make_booking()
    row = reminder(studio_a, booking)
    second = {}

    def slow_send(email_self, *args, **kwargs):
        # The first worker hangs in the ESP call; meanwhile its row looks stuck and the sweep claims it again.
        Notification.objects.filter(pk=row.pk).update(updated=timezone.now() - timedelta(minutes=11))
        with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("ESP down")):
            second["result"] = notification_send(notification_id=row.pk, now=row.send_after)
        return 1

    with tenant_context(studio_a), mock.patch("django.core.mail.EmailMultiAlternatives.send", slow_send):
        first = notification_send(notification_id=row.pk, now=row.send_after)
        row.refresh_from_db()

    # The second worker's failure stands: the first one's late "sent" changed nothing of its outcome...
    assert (first, second["result"]) == (None, "pending")
    assert (row.status, row.attempts, row.last_error) == ("pending", 2, "OSError: ESP down")
    # ...but the provider's acceptance of the first copy is recorded, so the retry sends no second one.
    assert row.sent_at is not None
    with tenant_context(studio_a):
        assert notification_send(notification_id=row.pk, now=row.send_after) == "sent"
    assert mail.outbox == []


def test_a_row_stuck_in_sending_is_taken_again_after_ten_minutes(studio_a, make_booking):
    booking = make_booking()
    row = reminder(studio_a, booking)
    claimed_at = row.send_after
    with tenant_context(studio_a):
        Notification.objects.filter(pk=row.pk).update(status="sending", updated=claimed_at)

        assert notification_send(notification_id=row.pk, now=claimed_at + timedelta(minutes=9)) is None
        assert notification_send(notification_id=row.pk, now=claimed_at + timedelta(minutes=11)) == "sent"

    assert len(mail.outbox) == 1


def test_a_broker_down_at_booking_time_loses_nothing_and_the_sweep_sends_once(
    studio_a, make_booking, django_capture_on_commit_callbacks
):
    with (
        mock.patch("tenant_apps.notifications.tasks.send_notification.delay", side_effect=ConnectionError),
        django_capture_on_commit_callbacks(execute=True),
    ):
        booking = make_booking()

    assert mail.outbox == []
    assert booking.pk is not None
    with tenant_context(studio_a):
        assert notifications_send_due() == 2
        assert notifications_send_due() == 0

    assert [message.subject.split(":")[0] for message in mail.outbox] == ["Booked", "New booking"]
    assert [status for _kind, status, _at in rows(studio_a, booking)] == ["sent", "sent", "pending", "pending"]


@pytest.mark.parametrize(
    ("day", "reminder_local_hour", "text"),
    [
        # The day after the clocks go back (2027-10-31, BST → GMT at 02:00): both days in GMT.
        ((2027, 11, 1), 9, "Monday 1 November 2027, 09:00 (Europe/London)"),
        # The day they go back: 24 real hours before 09:00 GMT is 10:00 BST the day before.
        ((2027, 10, 31), 10, "Sunday 31 October 2027, 09:00 (Europe/London)"),
        # The day they go forward (2027-03-28, GMT → BST at 01:00): 08:00 GMT the day before.
        ((2027, 3, 28), 8, "Sunday 28 March 2027, 09:00 (Europe/London)"),
    ],
)
def test_a_reminder_across_a_clock_change_goes_24_real_hours_before_and_shows_the_local_time(
    studio_a, schedule_a, booking_client_a, owner_a, day, reminder_local_hour, text
):
    trainer, session_type = schedule_a
    start = datetime(*day, 9, 0, tzinfo=LONDON)
    with tenant_context(studio_a):
        booking = services.booking_create(
            trainer=trainer,
            client=booking_client_a,
            session_type=session_type,
            start_time=start,
            created_by=owner_a,
            off_grid=True,
            # A week before, whatever today is: the reminder rule reads the service's clock.
            now=start - timedelta(days=7),
        )
    row = reminder(studio_a, booking)

    assert row.send_after == start.astimezone(UTC) - timedelta(hours=24)
    assert row.send_after.astimezone(LONDON).hour == reminder_local_hour
    with tenant_context(studio_a):
        assert notification_send(notification_id=row.pk, now=row.send_after) == "sent"
    [message] = mail.outbox
    assert text in message.body


# -- two sweeps at once ------------------------------------------------------------------------------------

SWEEPERS = 6


@contextmanager
def committed_booking(studio):
    """A trainer, a client and a confirmed booking of them, committed with their outbox rows; removed after."""

    def create():
        with tenant_context(studio):
            user = User.objects.create_user("sweep-coach@alpha.test", role=Role.TRAINER)
            trainer = Trainer.objects.create(user=user, display_name="Sweep Coach", timezone="Europe/London")
            for day in range(7):
                AvailabilitySlot.objects.create(trainer=trainer, day_of_week=day, start_time=time(9), end_time=time(12))
            session_type = SessionType.objects.create(name="Sweep", duration_minutes=60, price=0, currency="GBP")
            session_type.trainers.add(trainer)
            client = Client.objects.create(email="swept@alpha.test", first_name="Swept")
            booking = services.booking_create(
                trainer=trainer,
                client=client,
                session_type=session_type,
                start_time=datetime.combine(next_monday(2), time(10), tzinfo=LONDON),
            )
            # Every row of it due now and never sent, as if the sweep had been down for a while.
            Notification.objects.filter(booking=booking).update(
                status="pending", send_after=booking.created, sent_at=None, provider_message_id=""
            )
            return booking.pk

    def remove():
        with tenant_context(studio):
            Notification.objects.filter(recipient_email__in=["swept@alpha.test", "sweep-coach@alpha.test"]).delete()
            BookingEvent.objects.filter(booking__trainer__display_name="Sweep Coach").delete()
            Booking.objects.filter(trainer__display_name="Sweep Coach").delete()
            Client.objects.filter(email="swept@alpha.test").delete()
            SessionType.objects.filter(name="Sweep").delete()
            Trainer.objects.filter(display_name="Sweep Coach").delete()
            User.objects.filter(email="sweep-coach@alpha.test").delete()

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


def test_sweeps_running_at_once_send_each_message_once(studio_a):
    with committed_booking(studio_a) as booking_id:
        mail.outbox.clear()

        def sweep(_index):
            with tenant_context(studio_a):
                return notifications_send_due()

        results = run_in_threads(SWEEPERS, sweep)

        def statuses():
            with tenant_context(studio_a):
                return list(Notification.objects.filter(booking_id=booking_id).values_list("status", flat=True))

        assert sum(results) == 4, results
        assert run_committed(statuses) == ["sent", "sent", "sent", "sent"]
    assert sorted(message.subject.split(":")[0] for message in mail.outbox) == [
        "Booked",
        "New booking",
        "Reminder",
        "Reminder",
    ]


def test_the_booking_service_s_clock_decides_the_reminders(studio_a, make_booking):
    day = next_monday(2)
    # Made 25 hours before the start by the service's clock: too close for the 24 h reminder.
    booking = make_booking(day=day, now=at(day, "10:00") - timedelta(hours=25))

    assert [kind for kind, _status, _at in rows(studio_a, booking, kind__startswith="reminder")] == ["reminder_1h"]


def test_a_retry_is_timed_from_the_claim_not_from_a_stale_sweep_clock(studio_a, make_booking):
    booking = make_booking()
    row = reminder(studio_a, booking)
    stale = timezone.now() - timedelta(minutes=5)
    with tenant_context(studio_a), mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError):
        Notification.objects.filter(pk=row.pk).update(send_after=stale - timedelta(minutes=1))
        before = timezone.now()

        assert notification_send(notification_id=row.pk, now=stale) == "pending"
        row.refresh_from_db()

    assert row.updated >= before and row.send_after >= before + timedelta(minutes=1)


def test_a_send_task_queued_by_the_previous_release_with_one_id_still_sends(studio_a, make_booking):
    """During a deploy the broker may still hold tasks that name one row (notification_id=)."""
    from tenant_apps.notifications.tasks import send_notification

    booking = make_booking()
    [confirmation] = rows(studio_a, booking, kind="booking_confirmed")
    with tenant_context(studio_a):
        row = Notification.objects.get(booking=booking, kind="booking_confirmed")
        assert confirmation[1] == "pending"

        assert send_notification(notification_id=row.pk) == ["sent"]
