"""Package expiry, per studio: beat queues the fan-out in the public schema, which queues one expiry run per
studio schema. tenant-schemas-celery records the schema a task was queued in and runs it there."""

from celery import shared_task
from django.db import connection
from django_tenants.utils import get_public_schema_name

from shared_apps.core.tasks import queue_in_every_studio
from tenant_apps.packages.services import package_expire_due


@shared_task(name="packages.expire_due")
def expire_due_packages() -> int:
    """Expire the current studio's packages past their expiry date (its own today, in its own zone)."""
    if connection.schema_name == get_public_schema_name():
        raise RuntimeError("packages.expire_due runs in a studio's schema; queue it inside schema_context")
    return package_expire_due()


@shared_task(name="packages.expire_due_all_studios")
def expire_due_packages_all_studios() -> int:
    """Queue ``expire_due_packages`` once per studio. Runs hourly: each studio's day ends at its own midnight,
    and a run that finds nothing due changes nothing."""
    return queue_in_every_studio(expire_due_packages)
