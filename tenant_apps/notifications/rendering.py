"""What a booking's messages say, whichever way they go: the mail and its SMS twin are rendered from the same
context, at send time, from the booking as it is then."""

from zoneinfo import ZoneInfo

# A helper, not the bookings services: the manage link is signed with the booking's current link version,
# which only send time knows (links revoked since the row was written must not go out).
from tenant_apps.bookings.tokens import booking_manage_url
from tenant_apps.notifications.models import Kind, Notification

# Kinds that share a template (the template tells them apart by ``kind``).
TEMPLATES = {Kind.REMINDER_24H: "booking_reminder", Kind.REMINDER_1H: "booking_reminder"}


def template_of(kind: str) -> str:
    """The template name of a message ``kind`` (under emails/ or sms/)."""
    return TEMPLATES.get(kind, kind)


def client_zone(booking) -> str:
    """The zone a client reads a booking's times in: their own if they set one, else the trainer's (the
    studio's unless the trainer set another). Messages name it."""
    return booking.client.timezone or booking.trainer.timezone


def booking_message_context(notification: Notification) -> dict:
    """The context of a client's message about a booking: the booking, its start in the client's zone (named),
    and a manage link of the booking's current link version."""
    booking = notification.booking
    zone = ZoneInfo(client_zone(booking))
    return {
        "kind": notification.kind,
        "booking": booking,
        "local_start": booking.start_time.astimezone(zone),
        "zone": zone.key,
        "manage_url": booking_manage_url(booking),
    }
