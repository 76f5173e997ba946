"""Sending the outbox, per studio: beat queues the fan-out in the public schema every minute, which queues one
sweep per studio schema (tenant-schemas-celery runs each in the schema it was queued from)."""

import time
import uuid

from celery import shared_task
from django.core.cache import cache
from django.db import connection
from django_tenants.utils import get_public_schema_name, get_tenant_model

from shared_apps.core.tasks import queue_in_every_studio
from shared_apps.core.tenancy import current_studio
from tenant_apps.notifications.services import notification_send, notifications_send_due

# The default cache's key function (django_tenants.cache.make_key) prefixes the current schema: one lock per studio.
SWEEP_LOCK_KEY = "notifications:sweep"
# Longer than a sweep usually takes, short enough that a worker killed mid-sweep delays the next by this at most.
SWEEP_LOCK_SECONDS = 120
# A sweep claims no more rows after this long (a row's send is bounded by the ESP's and Twilio's timeouts).
SWEEP_SECONDS = 60


def _check_studio_schema(name: str) -> None:
    if connection.schema_name == get_public_schema_name():
        raise RuntimeError(f"{name} runs in a studio's schema; queue it inside schema_context")
    if current_studio() is None:
        # Run in the queueing process (eager: tests, benchmarks), the worker keeps the schema-only tenant that
        # schema_context set; mails need the studio itself (its name, its theme, its domain).
        connection.set_tenant(get_tenant_model().objects.get(schema_name=connection.schema_name))


# Well under STUCK_AFTER: a worker still sending when the sweep claims the row again would be a second sender.
@shared_task(name="notifications.send", soft_time_limit=120, time_limit=150)
def send_notification(
    *, notification_ids: list[int] | None = None, notification_id: int | None = None
) -> list[str | None]:
    """Send the messages of one change, queued as one task after its transaction committed (a message to the
    client, its SMS, the trainer's notice); no retry of its own (each row retries). Their statuses.
    ``notification_id``: one row, as the previous release queued it (tasks still in the broker during a deploy)."""
    _check_studio_schema("notifications.send")
    if notification_id is not None:
        notification_ids = [*(notification_ids or []), notification_id]
    return [notification_send(notification_id=pk) for pk in notification_ids or []]


# Under SWEEP_LOCK_SECONDS: a sweep stuck in one send is stopped before its lock could pass to the next one.
@shared_task(name="notifications.send_due", soft_time_limit=100, time_limit=115)
def send_due() -> int:
    """Send the current studio's due messages (reminders, and any whose queueing failed); skipped while another
    sweep of the studio runs (a slow one still walking its rows when the next minute's arrives). The claims
    already keep two sweeps from sending one row twice; the lock saves the second one's wasted claims."""
    _check_studio_schema("notifications.send_due")
    token = uuid.uuid4().hex
    if not cache.add(SWEEP_LOCK_KEY, token, timeout=SWEEP_LOCK_SECONDS):
        return 0
    try:
        # Stops claiming well before the lock expires: two sweeps of a studio never run at once.
        return notifications_send_due(deadline=time.monotonic() + SWEEP_SECONDS)
    finally:
        # Only its own: a lock that expired and was taken by the next sweep stays that sweep's.
        if cache.get(SWEEP_LOCK_KEY) == token:
            cache.delete(SWEEP_LOCK_KEY)


@shared_task(name="notifications.send_due_all_studios")
def send_due_all_studios() -> int:
    """Queue ``send_due`` once per studio; beat runs it every minute."""
    # A studio's sweep still queued when the next minute's is due is dropped (workers were busy or down).
    return queue_in_every_studio(send_due, expires=55)
