"""The outbox when things go wrong: an ESP down for hours, a worker killed after the provider took the message, a
cancellation that overtook its booking's confirmation, two sweeps of one studio at once; and what one sweep
costs in queries as its rows grow."""

import email
from datetime import timedelta
from unittest import mock

import pytest
from anymail.exceptions import AnymailAPIError
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenant_apps.bookings import services
from tenant_apps.notifications import services as outbox
from tenant_apps.notifications.models import Notification
from tenant_apps.notifications.services import STUCK_AFTER, notification_send, notifications_send_due
from tenant_apps.notifications.tasks import SWEEP_LOCK_KEY, send_due
from tests.bookings.conftest import at
from tests.conftest import next_monday
from tests.notifications.conftest import rows

pytestmark = pytest.mark.django_db
# Anymail's test backend: it answers like an ESP (a message id per message) and keeps what it sent in mail.outbox.
ANYMAIL_TEST = override_settings(MAILERS={"default": {"BACKEND": "anymail.backends.test.EmailBackend"}})
ESP_DOWN = mock.patch("anymail.backends.test.EmailBackend.post_to_esp", side_effect=AnymailAPIError("ESP down"))


def outbox_row(studio, booking, kind) -> Notification:
    with tenant_context(studio):
        return Notification.objects.get(booking=booking, kind=kind, status="pending")


def only(studio, row) -> None:
    """Cancel the booking's other rows: the sweeps of the test are about ``row``."""
    with tenant_context(studio):
        Notification.objects.filter(booking_id=row.booking_id).exclude(pk=row.pk).update(status="cancelled")


# -- an ESP outage -----------------------------------------------------------------------------------------


@ANYMAIL_TEST
def test_an_esp_down_for_three_hours_loses_nothing_and_sends_once(studio_a, make_booking):
    booking = make_booking()
    row = outbox_row(studio_a, booking, "booking_confirmed")
    # Ahead of the clock for as long as the test runs, so the retries are timed from it.
    now = timezone.now() + timedelta(seconds=30)
    back_at = now + timedelta(hours=3)
    with tenant_context(studio_a):
        with ESP_DOWN:
            while now < back_at:
                assert notification_send(notification_id=row.pk, now=now) == "pending"
                row.refresh_from_db()
                now = row.send_after
        failed_attempts = row.attempts

        assert notification_send(notification_id=row.pk, now=now) == "sent"
        row.refresh_from_db()

    # 1 + 2 + 4 + ... + 120 minutes: the eighth try was the first after the outage.
    assert (failed_attempts, row.attempts) == (8, 9)
    assert (row.status, row.provider_message_id, row.recipient_email) == ("sent", "0", booking.client.email)
    [message] = mail.outbox
    assert message.subject.startswith("Booked: ")


@ANYMAIL_TEST
def test_a_reminder_whose_next_try_would_come_after_its_session_ends_failed(studio_a, make_booking):
    booking = make_booking()
    row = outbox_row(studio_a, booking, "reminder_1h")
    now = row.send_after
    results, retries = [], []
    with tenant_context(studio_a), ESP_DOWN:
        while not results or results[-1] == "pending":
            results.append(notification_send(notification_id=row.pk, now=now))
            row.refresh_from_db()
            retries.append(row.send_after)
            now = row.send_after

    # Tried at 60, 59, 57, 53, 45 and 29 minutes before the start; the next (32 minutes later) would come
    # after it, so the sixth failure is the last.
    assert results == ["pending"] * 5 + ["failed"]
    assert all(retry < booking.start_time for retry in retries)
    assert (row.status, row.attempts, row.last_error) == ("failed", 6, "AnymailAPIError: ESP down")
    assert mail.outbox == []


# -- a worker killed after the provider accepted -----------------------------------------------------------


@ANYMAIL_TEST
def test_a_worker_killed_after_the_provider_accepted_does_not_cause_a_second_send(studio_a, make_booking):
    booking = make_booking()
    row = outbox_row(studio_a, booking, "booking_confirmed")
    only(studio_a, row)
    finish = outbox._finish

    def killed_before_sent(notification, **fields):
        # The worker dies after the ESP took the message, before the row says sent.
        if fields.get("status") == "sent":
            raise SystemExit("worker killed")
        return finish(notification, **fields)

    with tenant_context(studio_a):
        with mock.patch.object(outbox, "_finish", killed_before_sent), pytest.raises(SystemExit):
            notification_send(notification_id=row.pk)
        row.refresh_from_db()
        assert (row.status, row.provider_message_id) == ("sending", "0")

        # Looks stuck only after STUCK_AFTER; then the sweep takes it again.
        assert notifications_send_due(now=row.updated + STUCK_AFTER - timedelta(minutes=1)) == 0
        assert notifications_send_due(now=row.updated + STUCK_AFTER + timedelta(minutes=1)) == 1
        row.refresh_from_db()

    assert len(mail.outbox) == 1
    assert (row.status, row.attempts, row.provider_message_id) == ("sent", 2, "0")


# -- a cancellation that overtook the booking's news -------------------------------------------------------


def test_a_booking_made_moved_and_cancelled_while_the_broker_was_down_is_only_told_as_cancelled(
    studio_a, make_booking, owner_a, django_capture_on_commit_callbacks
):
    with (
        mock.patch("tenant_apps.notifications.tasks.send_notification.delay", side_effect=ConnectionError),
        django_capture_on_commit_callbacks(execute=True),
    ):
        booking = make_booking()
        with tenant_context(studio_a):
            services.booking_reschedule(
                booking=booking, start_time=at(next_monday(2), "11:00"), actor=owner_a, off_grid=True
            )
            services.booking_cancel(booking=booking, actor=owner_a)
    assert mail.outbox == []

    with tenant_context(studio_a):
        notifications_send_due()

    client_rows = {kind: status for kind, status, _at in rows(studio_a, booking, staff_user=None)}
    assert client_rows == {
        "booking_confirmed": "cancelled",
        "booking_rescheduled": "cancelled",
        "booking_cancelled": "sent",
        "reminder_24h": "cancelled",
        "reminder_1h": "cancelled",
    }
    [cancellation] = [message for message in mail.outbox if message.to == [booking.client.email]]
    wire = email.message_from_bytes(cancellation.message().as_bytes())
    [invitation] = [part for part in wire.walk() if part.get_content_type() == "text/calendar"]
    assert invitation.get_param("method") == "CANCEL"


# -- two sweeps of one studio at once ----------------------------------------------------------------------


def test_a_sweep_of_a_studio_is_skipped_while_another_holds_its_lock(studio_a, studio_b, make_booking):
    booking = make_booking()
    with tenant_context(studio_b):
        # Another studio's sweep running changes nothing here: the lock's key names the schema.
        assert cache.add(SWEEP_LOCK_KEY, True)
    with tenant_context(studio_a):
        assert cache.add(SWEEP_LOCK_KEY, True)

        assert send_due() == 0
        assert mail.outbox == []

        cache.delete(SWEEP_LOCK_KEY)
        assert send_due() == 2
        # Released once done: the next minute's sweep runs.
        assert cache.add(SWEEP_LOCK_KEY, True)
        cache.delete(SWEEP_LOCK_KEY)
    with tenant_context(studio_b):
        cache.delete(SWEEP_LOCK_KEY)

    assert [kind for kind, status, _at in rows(studio_a, booking) if status == "sent"] == [
        "booking_confirmed",
        "staff_booking_new",
    ]


def test_a_sweep_whose_lock_expired_leaves_the_next_sweeps_lock_alone(studio_a, make_booking):
    make_booking()
    with tenant_context(studio_a):
        real_send_due = outbox.notifications_send_due

        def slow_sweep(**kwargs):
            # Meanwhile this sweep's lock expired and the next minute's sweep took it.
            cache.set(SWEEP_LOCK_KEY, "the next sweep's token")
            return real_send_due(**kwargs)

        with mock.patch("tenant_apps.notifications.tasks.notifications_send_due", side_effect=slow_sweep):
            assert send_due() == 2

        assert cache.get(SWEEP_LOCK_KEY) == "the next sweep's token"
        cache.delete(SWEEP_LOCK_KEY)


def test_a_row_the_sweep_cannot_handle_does_not_stop_the_others(studio_a, make_booking, caplog):
    booking = make_booking()
    with tenant_context(studio_a):
        broken = outbox_row(studio_a, booking, "booking_confirmed")
        real_send = outbox.notification_send

        def send(*, notification_id, now):
            if notification_id == broken.pk:
                raise RuntimeError("the database went away for this one")
            return real_send(notification_id=notification_id, now=now)

        with mock.patch("tenant_apps.notifications.services.notification_send", side_effect=send):
            assert notifications_send_due() == 1

    assert [kind for kind, status, _at in rows(studio_a, booking) if status == "sent"] == ["staff_booking_new"]
    assert "the sweep could not handle it" in caplog.text


def test_a_sweep_past_its_deadline_leaves_the_rest_to_the_next(studio_a, make_booking):
    booking = make_booking()
    with tenant_context(studio_a):
        assert notifications_send_due(deadline=0) == 0  # time.monotonic() is far past 0

        assert notifications_send_due() == 2
    assert {status for kind, status, _at in rows(studio_a, booking) if not kind.startswith("reminder")} == {"sent"}


# -- the sweep's queries -----------------------------------------------------------------------------------

# Per row: the claim, the row with its booking, client, trainer and session type, the provider's acceptance, the
# outcome; and the studio's primary domain for the manage link (shared_apps.core.tenancy.site_url reads it for
# every link), which is why this is an upper bound rather than exactly 4.
MOST_QUERIES_PER_ROW = 5


def test_the_sweep_s_queries_grow_by_a_constant_per_due_row(studio_a, schedule_a, booking_client_a, owner_a):
    trainer, session_type = schedule_a
    day = next_monday(2)
    with tenant_context(studio_a):
        bookings = [
            services.booking_create(
                trainer=trainer,
                client=booking_client_a,
                session_type=session_type,
                start_time=at(day + timedelta(days=index // 8), f"{8 + index % 8 * 2:02d}:00"),
                created_by=owner_a,
                off_grid=True,
            )
            for index in range(50)
        ]

    def sweep_queries(due: int) -> int:
        with tenant_context(studio_a):
            Notification.objects.filter(booking__in=bookings).update(status="cancelled")
            # The hour reminders of the first ``due`` bookings are due (the sweep's usual work), never sent.
            Notification.objects.filter(booking__in=bookings[:due], kind="reminder_1h").update(
                status="pending", send_after=timezone.now() - timedelta(minutes=1), sent_at=None
            )
            mail.outbox.clear()
            with CaptureQueriesContext(connection) as queries:
                assert notifications_send_due() == due
            assert len(mail.outbox) == due
            return len(queries)

    five, twenty, fifty = sweep_queries(5), sweep_queries(20), sweep_queries(50)

    per_row = (twenty - five) / 15
    assert fifty - twenty == 30 * per_row, (five, twenty, fifty)
    assert per_row <= MOST_QUERIES_PER_ROW, (five, twenty, fifty)
    # What is left is the studio's: the ids of its due rows.
    assert five - 5 * per_row == 1, (five, twenty, fifty)
