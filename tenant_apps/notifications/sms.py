"""SMS: which messages go by SMS, sending one through Twilio's SDK, and what Twilio says of it afterwards.

Which: the kinds the studio chose (``Studio.sms_kinds``), to clients who opted in with a number that hasn't
opted out of our sender (``SmsOptOut``, public schema: the sender is shared by every studio, and so is a STOP).
Decided when the row is written, in the booking's transaction (one query), and again at send time.

Sending: with ``SMS_BACKEND`` "twilio", through the SDK's Messages API from the Messaging Service if one is
named, else from ``TWILIO_FROM_NUMBER``, with a status callback to the platform host that names the studio and
the row; with "console" (development) the text goes to the log, which the worker prints. Twilio's error 21610
(the number replied STOP to our sender) opts the number out and ends the row suppressed; an error no retry can
mend (PERMANENT_ERRORS: not a mobile, not a number) ends it failed; any other error propagates and the outbox
retries. Each SMS sent counts in the studio's monthly usage.
"""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection
from django.urls import reverse
from django.utils import timezone
from twilio.base.exceptions import TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client as TwilioClient

from shared_apps.core.mail import render_text
from shared_apps.core.tenancy import current_studio, platform_url
from shared_apps.messaging.models import OptOutSource, SmsOptOut
from shared_apps.messaging.services import sms_opt_out, sms_usage_count
from tenant_apps.notifications.models import Channel, Notification, Status
from tenant_apps.notifications.rendering import booking_message_context, template_of

logger = logging.getLogger(__name__)

# Twilio's error for a message to a number that replied STOP to the sender (at sending, or in a status callback).
UNSUBSCRIBED_RECIPIENT = 21610
# A worker's send must not hang on the network until the task's time limit: the outbox retries instead.
TWILIO_TIMEOUT_SECONDS = 15
# Twilio's final word on a message (status callbacks) → the row's status. The others (queued, sending, sent…)
# say nothing the row doesn't: it is sent once Twilio accepted it.
FINAL_STATUSES = {"delivered": Status.DELIVERED, "undelivered": Status.FAILED, "failed": Status.FAILED}


# Twilio's errors that no retry can mend: not a valid number (21211), not a mobile (21614), a number it can't
# route to (21612), a country the account may not send to (21408). The row ends failed at once.
PERMANENT_ERRORS = {21211, 21408, 21612, 21614}


class SmsRefused(Exception):
    """The provider refused the number for good (it opted out: Twilio's error 21610); the row ends suppressed,
    never retried."""


class SmsUndeliverable(Exception):
    """The provider says the message can never go to this number (PERMANENT_ERRORS); the row ends failed, never
    retried."""


def twilio_http_client() -> HttpClient:
    """The HTTP client the SDK sends with. Tests replace this function with one that answers without the
    network."""
    return TwilioHttpClient(timeout=TWILIO_TIMEOUT_SECONDS)


def _number(client) -> str:
    """The client's number in E.164, or "" (none, or one that isn't a valid number)."""
    phone = client.phone
    return phone.as_e164 if phone and phone.is_valid() else ""


def studio_sms_kinds(studio) -> list[str]:
    """The kinds ``studio`` sends by SMS: none while SMS are off for the platform (``SMS_BACKEND`` "off", a
    deployment without Twilio), whatever the studio chose."""
    return [] if studio is None or settings.SMS_BACKEND == "off" else list(studio.sms_kinds)


def sms_rows(*, booking, kind: str, send_after, details: dict) -> list[Notification]:
    """The SMS twins (unsaved) of the client's message ``kind`` about ``booking``: none unless the studio sends
    that kind by SMS and the client opted in with a number that didn't opt out. At most one query (the opt-out):
    this runs inside every booking's transaction."""
    studio = current_studio()
    client = booking.client
    number = _number(client)
    if kind not in studio_sms_kinds(studio) or not client.sms_opt_in or not number:
        return []
    if SmsOptOut.objects.filter(phone=number).exists():
        return []
    return [
        Notification(
            channel=Channel.SMS,
            client=client,
            kind=kind,
            booking=booking,
            details=dict(details),
            send_after=send_after,
        )
    ]


def sms_suppressed(notification: Notification) -> bool:
    """Whether the SMS must not go: consent withdrawn, no number, the number opted out, or the studio no longer
    sends that kind by SMS (each may have changed since the row was written)."""
    client = notification.booking.client
    number = _number(client)
    studio = current_studio()
    if not client.sms_opt_in or not number or notification.kind not in studio_sms_kinds(studio):
        return True
    return SmsOptOut.objects.filter(phone=number).exists()


def sms_text(notification: Notification) -> str:
    """The text of the SMS, from the booking as it is now: ``sms/<template>.txt`` in the studio's theme, times in
    the client's zone (named), on one line (the templates' line breaks are for reading them)."""
    context = {**booking_message_context(notification), "sender_name": current_studio().name}
    # In the zone the context names (render_text): the date filter would show UTC in a worker.
    return " ".join(render_text(f"sms/{template_of(notification.kind)}.txt", context).split())


def status_callback_url(notification: Notification) -> str:
    """Where Twilio reports the message's fate: the platform host (Twilio's webhooks are the platform's), with
    the studio and the row in the query, which Twilio signs with the rest of the URL."""
    path = reverse("messaging:status", urlconf=settings.PUBLIC_SCHEMA_URLCONF)
    query = urlencode({"studio": connection.schema_name, "notification": notification.pk})
    return platform_url(f"{path}?{query}")


def _twilio_send(notification: Notification, *, to: str, body: str) -> str:
    if settings.TWILIO_MESSAGING_SERVICE_SID:
        sender = {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
    else:
        sender = {"from_": settings.TWILIO_FROM_NUMBER}
    client = TwilioClient(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=twilio_http_client())
    try:
        message = client.messages.create(to=to, body=body, status_callback=status_callback_url(notification), **sender)
    except TwilioRestException as error:
        if error.code == UNSUBSCRIBED_RECIPIENT:
            sms_opt_out(phone=to, source=OptOutSource.CARRIER)
            raise SmsRefused(f"Twilio error 21610: {to} replied STOP to our sender.") from error
        if error.code in PERMANENT_ERRORS:
            raise SmsUndeliverable(f"Twilio error {error.code}: {error.msg}") from error
        raise
    return message.sid


def sms_deliver(notification: Notification) -> tuple[str, str]:
    """Send the SMS; (the number it went to, Twilio's message SID). Raises on failure (the row retries)."""
    to = _number(notification.booking.client)
    body = sms_text(notification)
    if settings.SMS_BACKEND == "console":
        logger.info("SMS to %s (%s, notification %s):\n%s", to, notification.kind, notification.pk, body)
        message_id = f"console-{notification.pk}"
    elif settings.SMS_BACKEND == "twilio":
        message_id = _twilio_send(notification, to=to, body=body)
    else:
        raise ImproperlyConfigured(f'SMS_BACKEND: "twilio" or "console", not "{settings.SMS_BACKEND}".')
    try:
        sms_usage_count(studio_id=current_studio().pk, moment=timezone.now())
    except DatabaseError:
        # Twilio has the message: raising would retry the row and send it twice. A lost count is the lesser harm.
        logger.exception("SMS of notification %s not counted in the studio's usage", notification.pk)
    return to, message_id


def sms_status_record(*, notification_id: int, message_sid: str, message_status: str, error_code: str = "") -> bool:
    """Record Twilio's status callback on the current studio's row ``notification_id`` if it carries the SID
    Twilio names (a callback can't touch a row of another message); whether the row changed.

    Only Twilio's final word changes a row, and only one that Twilio accepted: sent, or still sending with
    Twilio's SID already recorded (the callback beat the worker's last update, or the worker was lost after
    recording it; the worker's "sent" then finds the row changed and leaves it). A row is never moved back (a
    late "sent" after "delivered"), nor from one final status to another. Error 21610 opts the number out too."""
    row = (
        Notification.objects.filter(pk=notification_id, channel=Channel.SMS, provider_message_id=message_sid)
        .exclude(provider_message_id="")
        .first()
    )
    if row is None:
        return False
    if error_code == str(UNSUBSCRIBED_RECIPIENT) and row.recipient_phone:
        sms_opt_out(phone=row.recipient_phone, source=OptOutSource.CARRIER)
    status = FINAL_STATUSES.get(message_status)
    if status is None:
        return False
    now = timezone.now()
    # delivered_at is the time of the provider's final word, whichever it was.
    fields = {"status": status, "delivered_at": now, "updated": now}
    if status == Status.FAILED:
        fields["last_error"] = f"Twilio: {message_status}, error {error_code or 'unknown'}"
    accepted = Notification.objects.filter(pk=row.pk, status__in=[Status.SENDING, Status.SENT])
    return bool(accepted.update(**fields))
