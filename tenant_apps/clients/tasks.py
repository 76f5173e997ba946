"""Client CSV imports too large for a request, run in the studio's schema the job was queued from
(tenant-schemas-celery carries it in the task's headers), and the sweep that keeps no job waiting forever."""

from celery import shared_task
from django.db import connection
from django_tenants.utils import get_public_schema_name

from shared_apps.core.tasks import queue_in_every_studio
from tenant_apps.clients.services import client_import_run, client_import_sweep


def _refuse_public_schema(task_name: str) -> None:
    if connection.schema_name == get_public_schema_name():
        raise RuntimeError(f"{task_name} runs in a studio's schema; queue it inside schema_context")


@shared_task(name="clients.import_run")
def run_client_import(import_id: int) -> str | None:
    """Run one queued import job; a duplicate delivery finds it claimed already and does nothing."""
    _refuse_public_schema("clients.import_run")
    job = client_import_run(import_id=import_id)
    return job.status if job is not None else None


@shared_task(name="clients.import_sweep")
def sweep_client_imports() -> dict[str, int]:
    """Queue again the current studio's import jobs left queued; fail those whose worker was lost."""
    _refuse_public_schema("clients.import_sweep")
    requeued, failed = client_import_sweep()
    return {"requeued": requeued, "failed": failed}


@shared_task(name="clients.import_sweep_all_studios")
def sweep_client_imports_all_studios() -> int:
    """Queue ``sweep_client_imports`` once per studio; beat runs this every few minutes."""
    return queue_in_every_studio(sweep_client_imports)
