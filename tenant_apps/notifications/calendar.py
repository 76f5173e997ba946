"""A booking as an iCalendar event: the site's .ics download and the invitation on the client's booking mails
are built here, so both carry the same UID and a calendar treats them as one entry.

The UID is ``booking-<id>@<the studio's primary domain>`` for the booking's whole life. The SEQUENCE is derived
from the booking's history (its BookingEvent rows, one per change, never deleted): it grows with every change
without a column to keep in step, and a mail rendered late (after a second change) carries the current one.
"""

from datetime import UTC
from email.message import MIMEPart
from email.utils import parseaddr

import icalendar
from django.conf import settings
from django.utils import timezone

# The booking's status → the event's STATUS.
EVENT_STATUS = {"pending": "TENTATIVE", "cancelled": "CANCELLED"}


def booking_calendar_uid(*, booking, domain: str) -> str:
    """``domain``: the studio's primary domain (a feed of many bookings reads it once)."""
    return f"booking-{booking.pk}@{domain}"


def booking_calendar_sequence(booking) -> int:
    """0 when made; one more with each change the booking's history records."""
    return max(booking.events.count() - 1, 0)


def _address(email: str, name: str, **params) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{email}")
    address.params["CN"] = icalendar.vText(name)
    for key, value in params.items():
        address.params[key] = icalendar.vText(value)
    return address


def booking_calendar(*, booking, studio, method: str | None = None) -> bytes:
    """The booking as an iCalendar file. ``method`` ("REQUEST" or "CANCEL") makes it an invitation (RFC 5546):
    ORGANIZER the studio, ATTENDEE the client."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{studio.name}//Bookings//EN")
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", booking_calendar_uid(booking=booking, domain=studio.get_primary_domain().domain))
    event.add("sequence", booking_calendar_sequence(booking))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", booking.start_time.astimezone(UTC))
    event.add("dtend", booking.end_time.astimezone(UTC))
    event.add("summary", f"{booking.session_type.name} with {booking.trainer.display_name} at {studio.name}")
    is_cancelled = method == "CANCEL" or booking.status == "cancelled"
    event.add("status", "CANCELLED" if is_cancelled else EVENT_STATUS.get(booking.status, "CONFIRMED"))
    if studio.address:
        event.add("location", studio.address.replace("\n", ", "))
    organizer_email = studio.contact_email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    event.add("organizer", _address(organizer_email, studio.name))
    if booking.client.email:
        # The client booked it (or the studio did for them): nothing to answer.
        event.add(
            "attendee",
            _address(
                booking.client.email,
                booking.client.full_name,
                ROLE="REQ-PARTICIPANT",
                PARTSTAT="ACCEPTED",
                RSVP="FALSE",
            ),
        )
    calendar.add_component(event)
    return calendar.to_ical()


def booking_invitation_part(*, booking, studio, method: str) -> MIMEPart:
    """The invitation as a MIME part whose content type names the method, which is what makes mail clients
    show it as an invite (accept / add to calendar) rather than a file."""
    part = MIMEPart()
    part.set_content(
        booking_calendar(booking=booking, studio=studio, method=method).decode(),
        subtype="calendar",
        charset="utf-8",
        params={"method": method},
        disposition="attachment",
        filename="invite.ics" if method != "CANCEL" else "cancel.ics",
    )
    return part
