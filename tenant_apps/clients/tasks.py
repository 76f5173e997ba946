"""Client CSV imports too large for a request, run in the studio's schema the job was queued from
(tenant-schemas-celery carries it in the task's headers)."""

from celery import shared_task
from django.db import connection
from django_tenants.utils import get_public_schema_name

from tenant_apps.clients.services import client_import_run


@shared_task(name="clients.import_run")
def run_client_import(import_id: int) -> str | None:
    """Run one queued import job; a duplicate delivery finds it claimed already and does nothing."""
    if connection.schema_name == get_public_schema_name():
        raise RuntimeError("clients.import_run runs in a studio's schema; queue it inside schema_context")
    job = client_import_run(import_id=import_id)
    return job.status if job is not None else None
