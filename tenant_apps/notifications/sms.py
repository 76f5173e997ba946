"""SMS: which messages go by SMS, and sending one through Twilio's SDK. (A stub until the SMS work lands.)"""

from tenant_apps.notifications.models import Notification


class SmsRefused(Exception):
    """The provider refused the number for good (it opted out: Twilio's error 21610); the row ends suppressed,
    never retried."""


def sms_rows(*, booking, kind: str, send_after, details: dict) -> list[Notification]:
    """The SMS twins (unsaved) of the client's message ``kind`` about ``booking``: none unless the studio sends
    that kind by SMS and the client opted in with a number."""
    return []


def sms_suppressed(notification: Notification) -> bool:
    """Whether the SMS must not go (consent withdrawn, no number, the number opted out)."""
    return True


def sms_deliver(notification: Notification) -> tuple[str, str]:
    """Send the SMS; (the number it went to, Twilio's message SID). Raises on failure (the row retries)."""
    raise NotImplementedError
