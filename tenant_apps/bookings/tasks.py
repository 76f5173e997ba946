"""Periodic clean-up of guests' slot holds, per studio: beat queues the fan-out in the public schema, which
queues one run per studio schema (tenant-schemas-celery runs each in the schema it was queued from)."""

from celery import shared_task
from django.db import connection
from django_tenants.utils import get_public_schema_name

from shared_apps.core.tasks import queue_in_every_studio
from tenant_apps.bookings.holds import hold_delete_stale


@shared_task(name="bookings.holds_cleanup")
def holds_cleanup() -> int:
    """Delete the current studio's holds that expired over a day ago (they stopped blocking when they expired)."""
    if connection.schema_name == get_public_schema_name():
        raise RuntimeError("bookings.holds_cleanup runs in a studio's schema; queue it inside schema_context")
    return hold_delete_stale()


@shared_task(name="bookings.holds_cleanup_all_studios")
def holds_cleanup_all_studios() -> int:
    """Queue ``holds_cleanup`` once per studio."""
    return queue_in_every_studio(holds_cleanup)
