"""The ESP's word on a mail, through Anymail's tracking webhooks (on the platform host, basic auth checked by
Anymail with ANYMAIL["WEBHOOK_SECRET"] before any event reaches this module).

A mail carries its studio's schema and its row's id in its metadata (``services._with_tracking``); the row must
also carry the event's message id, so an event whose metadata was made up can touch no row but the one that
mail really was. Events that name no studio, an unknown one or no such row are ignored (logged at info).

What each event does (a row never moves back: delivered after bounced stays bounced):

- ``delivered``: a sent row becomes delivered, at the provider's time.
- ``bounced`` (Anymail's normalized permanent failure; the ESP gave up) and ``rejected`` (the ESP wouldn't send
  to the address): a sent or delivered row becomes bounced with the provider's description, and its client's
  address is marked bouncing if it is still the client's address (not after a change): the outbox sends it
  nothing more until staff or the client change it. A soft bounce (Postmark's SoftBounce, which Anymail also
  calls "bounced"), and a refusal about the sender or the content rather than the mailbox (blocked, DMARC, a
  virus scan: any reject reason but "bounced" and "invalid"), mark the row only.
- ``complained`` (marked as spam): the row keeps its status (the mail did arrive) and says "complained" in
  ``last_error``; the client's reminders by email are turned off, as they are the only mails a client can do
  without. Booking mails still go: they are the booking's record.
- Anything else (deferred, opened, clicked...) changes nothing.

Each event is a few conditional UPDATEs, so it is applied at once rather than stored and queued (as the Twilio
webhooks are), and a repeated or late one (ESPs retry) is harmless.
"""

import logging

from anymail.signals import EventType, RejectReason, tracking
from django.apps import apps
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

from tenant_apps.notifications.models import Notification, Status

logger = logging.getLogger(__name__)

BOUNCES = (EventType.BOUNCED, EventType.REJECTED)
# Refusals that say the address itself can't take mail; only these mark the client's address bouncing.
ADDRESS_REASONS = (RejectReason.BOUNCED, RejectReason.INVALID)
HANDLED = (EventType.DELIVERED, *BOUNCES, EventType.COMPLAINED)


@receiver(tracking, dispatch_uid="notifications.tracking_event")
def tracking_event(sender, event, esp_name: str, **kwargs) -> None:
    """Anymail's signal, once per event of a webhook call: the entry point, as a view would be."""
    if event.event_type not in HANDLED:
        return
    schema, notification_id = _row_named(event)
    if schema is None:
        logger.info(
            "%s %s event for message %s names no studio's row; ignored", esp_name, event.event_type, event.message_id
        )
        return
    with schema_context(schema), transaction.atomic():
        if not tracking_event_apply(event=event, notification_id=notification_id):
            logger.info(
                "%s %s event: no row %s of message %s in %s; ignored",
                esp_name,
                event.event_type,
                notification_id,
                event.message_id,
                schema,
            )


def _row_named(event) -> tuple[str | None, int | None]:
    """The schema and the row id the event's metadata names, when both are well-formed and the studio exists."""
    metadata = event.metadata or {}
    schema, notification_id = metadata.get("studio"), str(metadata.get("notification", ""))
    if not isinstance(schema, str) or not notification_id.isdigit() or not event.message_id:
        return None, None
    public = get_public_schema_name()
    with schema_context(public):
        if schema == public or not get_tenant_model().objects.filter(schema_name=schema).exists():
            return None, None
    return schema, int(notification_id)


def _is_soft(event) -> bool:
    """A bounce the ESP calls temporary: Anymail normalizes Postmark's SoftBounce (a full mailbox, an
    auto-responder) to "bounced" too, but the raw event still says which it was."""
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    return raw.get("Type") in ("SoftBounce", "Transient", "AutoResponder")


def tracking_event_apply(*, event, notification_id: int) -> bool:
    """Apply one tracking event to the current schema's row (rules: the module's docstring); whether the row
    was found."""
    rows = Notification.objects.filter(pk=notification_id, provider_message_id=event.message_id)
    notification = rows.first()
    if notification is None:
        return False
    now = timezone.now()
    happened_at = event.timestamp or now
    # By name: the clients app is not one the outbox depends on (DESIGN.md §4).
    clients = apps.get_model("clients", "Client").objects.filter(pk=notification.client_id)
    if event.event_type == EventType.DELIVERED:
        # Sending too: the provider's word can come before the worker marks the row sent (which then finds it
        # changed and leaves it).
        rows.filter(status__in=[Status.SENDING, Status.SENT]).update(
            status=Status.DELIVERED, delivered_at=happened_at, updated=now
        )
    elif event.event_type in BOUNCES:
        reason = event.description or event.mta_response or event.event_type
        rows.filter(status__in=[Status.SENT, Status.DELIVERED]).update(
            status=Status.BOUNCED, delivered_at=happened_at, last_error=reason[:2000], updated=now
        )
        if _is_soft(event) or event.reject_reason not in ADDRESS_REASONS:
            # The row says it didn't arrive; the address may take the next one: a full mailbox, or a refusal
            # that is about the sender or the content (a block, DMARC, a virus scan), not the mailbox.
            return True
        # Conditional: an address changed since (or a bounce already recorded) is left as it is.
        address = event.recipient or notification.recipient_email
        clients.filter(email__iexact=address, email_bounced_at__isnull=True).update(
            email_bounced_at=happened_at, email_bounce_reason=reason[:255], updated=now
        )
    else:
        rows.update(last_error=f"complained: {event.description or 'marked as spam'}"[:2000], updated=now)
        clients.update(email_reminders=False, updated=now)
    return True
