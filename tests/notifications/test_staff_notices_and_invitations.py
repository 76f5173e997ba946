"""The trainer's notice of a booking made or cancelled (not when they did it themselves), the calendar invitation
on the client's booking mails, and the reminder leads a demo can shorten."""

import email
from datetime import UTC, timedelta

import icalendar
import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django_tenants.utils import tenant_context

from shared_apps.core.tenancy import site_url
from tenant_apps.bookings import services
from tenant_apps.notifications.models import Notification
from tenant_apps.notifications.services import booking_notifications_write, notification_send
from tests.bookings.conftest import at
from tests.conftest import next_monday
from tests.notifications.conftest import rows

pytestmark = pytest.mark.django_db


def send(studio, booking, kind: str):
    """Send the booking's latest ``kind`` row now; the mail it sent."""
    with tenant_context(studio):
        row = Notification.objects.filter(booking=booking, kind=kind).latest("id")
        assert notification_send(notification_id=row.pk) == "sent"
    return mail.outbox[-1]


def kinds(studio, booking) -> list[str]:
    return [kind for kind, _status, _at in rows(studio, booking)]


# -- staff notices -------------------------------------------------------------------------------------------


def test_a_clients_booking_notifies_its_trainer_with_a_link_to_the_desk(studio_a, make_booking, client_a, trainer_a):
    booking = make_booking(created_by=client_a)
    with tenant_context(studio_a):
        notice = Notification.objects.get(booking=booking, kind="staff_booking_new")
        desk_url = site_url(f"/desk/bookings/{booking.pk}/")
    assert (notice.recipient_email, notice.staff_user_id, notice.client_id) == (trainer_a.email, trainer_a.pk, None)

    message = send(studio_a, booking, "staff_booking_new")

    assert message.to == [trainer_a.email]
    assert message.subject == (
        f"New booking: {booking.client.full_name}, PT 60 on {at(next_monday(2), '10:00'):%a %-d %b}, 10:00"
    )
    assert "10:00 (Europe/London)" in message.body and desk_url in message.body
    assert desk_url.startswith("http") and "/b/" not in message.body  # not the client's manage link
    assert message.attachments == []


def test_a_cancellation_notifies_the_trainer(studio_a, make_booking, client_a, owner_a):
    booking = make_booking(created_by=client_a)
    with tenant_context(studio_a):
        services.booking_cancel(booking=booking, actor=owner_a, reason="Studio closed")

    message = send(studio_a, booking, "staff_booking_cancelled")

    assert message.subject.startswith(f"Cancelled: {booking.client.full_name}, PT 60 on ")
    assert "is cancelled" in message.body and "Reason: Studio closed" in message.body
    assert f"/desk/bookings/{booking.pk}/" in message.body


def test_a_trainer_is_not_told_of_what_they_did_themselves(studio_a, make_booking, trainer_a):
    booking = make_booking(created_by=trainer_a)
    with tenant_context(studio_a):
        services.booking_cancel(booking=booking, actor=trainer_a)

    assert kinds(studio_a, booking) == ["booking_confirmed", "reminder_24h", "reminder_1h", "booking_cancelled"]


def test_a_trainer_whose_account_is_off_gets_no_notice(studio_a, make_booking, trainer_a, client_a):
    with tenant_context(studio_a):
        trainer_a.is_active = False
        trainer_a.save(update_fields=["is_active"])

    booking = make_booking(created_by=client_a)

    assert "staff_booking_new" not in kinds(studio_a, booking)


def test_a_notice_to_a_trainer_whose_account_is_turned_off_before_it_goes_is_not_sent(
    studio_a, make_booking, trainer_a, client_a
):
    booking = make_booking(created_by=client_a)
    with tenant_context(studio_a):
        trainer_a.is_active = False
        trainer_a.save(update_fields=["is_active"])
        row = Notification.objects.get(booking=booking, kind="staff_booking_new")

        assert notification_send(notification_id=row.pk) == "cancelled"

    assert mail.outbox == []


# -- calendar invitations ------------------------------------------------------------------------------------


def invitation(message) -> tuple[email.message.Message, icalendar.Calendar]:
    """The text/calendar part of the mail as it goes over the wire, and the calendar it carries."""
    wire = email.message_from_bytes(message.message().as_bytes())
    [part] = [part for part in wire.walk() if part.get_content_type() == "text/calendar"]
    return part, icalendar.Calendar.from_ical(part.get_payload(decode=True))


def test_booking_mails_carry_one_invitation_updated_then_cancelled(studio_a, make_booking, owner_a):
    booking = make_booking()
    confirmed_part, confirmed = invitation(send(studio_a, booking, "booking_confirmed"))
    new_start = at(next_monday(2) + timedelta(days=1), "11:00")
    with tenant_context(studio_a):
        booking = services.booking_reschedule(booking=booking, start_time=new_start, actor=owner_a)
    moved_part, moved = invitation(send(studio_a, booking, "booking_rescheduled"))
    with tenant_context(studio_a):
        services.booking_cancel(booking=booking, actor=owner_a)
    cancelled_part, cancelled = invitation(send(studio_a, booking, "booking_cancelled"))

    assert [part.get_param("method") for part in (confirmed_part, moved_part, cancelled_part)] == [
        "REQUEST",
        "REQUEST",
        "CANCEL",
    ]
    assert [str(calendar["METHOD"]) for calendar in (confirmed, moved, cancelled)] == ["REQUEST", "REQUEST", "CANCEL"]
    events = [calendar.walk("VEVENT")[0] for calendar in (confirmed, moved, cancelled)]
    with tenant_context(studio_a):
        domain = studio_a.get_primary_domain().domain
    assert {str(event["UID"]) for event in events} == {f"booking-{booking.pk}@{domain}"}
    sequences = [event.decoded("SEQUENCE") for event in events]
    assert sequences == sorted(set(sequences)) and sequences[0] == 0
    assert [str(event["STATUS"]) for event in events] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    starts = [event.decoded("DTSTART") for event in events]
    assert starts[0] == at(next_monday(2), "10:00") and starts[1] == starts[2] == new_start
    assert all(start.utcoffset() == timedelta(0) for start in starts)
    assert b"DTSTART:" in confirmed.to_ical() and b"Z\r\n" in confirmed.to_ical()


def test_the_invitation_names_the_studio_as_organizer_and_the_client_as_attendee(studio_a, make_booking):
    with tenant_context(studio_a):
        studio_a.contact_email = "desk@alpha.test"
        studio_a.save(update_fields=["contact_email"])
    booking = make_booking()

    _part, calendar = invitation(send(studio_a, booking, "booking_confirmed"))

    event = calendar.walk("VEVENT")[0]
    assert str(event["ORGANIZER"]) == "mailto:desk@alpha.test"
    assert event["ORGANIZER"].params["CN"] == studio_a.name
    assert str(event["ATTENDEE"]) == f"mailto:{booking.client.email}"
    assert event["ATTENDEE"].params["CN"] == booking.client.full_name


def test_a_reminder_carries_no_invitation(studio_a, make_booking):
    booking = make_booking()
    with tenant_context(studio_a):
        row = Notification.objects.get(booking=booking, kind="reminder_24h")
        assert notification_send(notification_id=row.pk, now=row.send_after) == "sent"

    assert mail.outbox[-1].attachments == []


def test_the_sites_calendar_file_has_the_mails_uid_and_sequence(studio_a, make_booking, owner_a):
    booking = make_booking()
    with tenant_context(studio_a):
        booking = services.booking_reschedule(
            booking=booking, start_time=at(next_monday(2) + timedelta(days=1), "11:00"), actor=owner_a
        )
    _part, mailed = invitation(send(studio_a, booking, "booking_rescheduled"))

    from tenant_apps.site.book import booking_calendar

    with tenant_context(studio_a):
        downloaded = icalendar.Calendar.from_ical(booking_calendar(booking=booking, studio=studio_a))

    mailed_event, downloaded_event = mailed.walk("VEVENT")[0], downloaded.walk("VEVENT")[0]
    assert "METHOD" not in downloaded
    assert str(downloaded_event["UID"]) == str(mailed_event["UID"])
    assert downloaded_event.decoded("SEQUENCE") == mailed_event.decoded("SEQUENCE") > 0


# -- the reminder leads --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ahead", "reminders"),
    [
        (timedelta(minutes=10, seconds=50), ["reminder_24h", "reminder_1h"]),  # 10 min lead, 50 s margin
        (timedelta(minutes=10, seconds=49), ["reminder_1h"]),
        (timedelta(minutes=2, seconds=30), ["reminder_1h"]),  # 2 min lead, 30 s margin
        (timedelta(minutes=2, seconds=29), []),
    ],
)
def test_a_demo_can_shorten_the_reminder_leads(studio_a, make_booking, settings, ahead, reminders):
    settings.NOTIFICATION_REMINDER_LEADS_MINUTES = [10, 2]
    booking = make_booking()
    with tenant_context(studio_a):
        Notification.objects.all().delete()

        booking_notifications_write(booking=booking, event="booking_confirmed", now=booking.start_time - ahead)

        pending = Notification.objects.filter(kind__startswith="reminder").order_by("id")
        assert [(row.kind, row.send_after) for row in pending] == [
            (kind, booking.start_time - lead)
            for kind, lead in (("reminder_24h", timedelta(minutes=10)), ("reminder_1h", timedelta(minutes=2)))
            if kind in reminders
        ]
        assert all(row.send_after.tzinfo == UTC for row in pending)


@pytest.mark.parametrize("leads", [[60], [60, 1440], [10, 0]])
def test_reminder_leads_that_make_no_sense_are_refused(studio_a, make_booking, settings, leads):
    booking = make_booking()
    settings.NOTIFICATION_REMINDER_LEADS_MINUTES = leads

    with pytest.raises(ImproperlyConfigured), tenant_context(studio_a):
        booking_notifications_write(booking=booking, event="booking_confirmed")
