"""The sweep that keeps no client import waiting forever: jobs left queued (the broker was out of reach) are
queued again; running jobs whose worker was lost are failed and their file dropped; live jobs are left alone."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context
from kombu.exceptions import OperationalError

from config.celery import app
from tenant_apps.clients import services, tasks
from tenant_apps.clients.models import Client, ClientImport, ImportStatus
from tests.clients.test_import_jobs import THREE_CLIENTS, emails, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_threshold(settings):
    """Every file of these tests is above the threshold, so it is imported by a job."""
    settings.CLIENT_IMPORT_SYNC_MAX_BYTES = 10


def job_in(studio, **fields) -> ClientImport:
    with tenant_context(studio):
        return ClientImport.objects.create(content=THREE_CLIENTS.encode(), **fields)


def age(studio, job: ClientImport, **delta) -> None:
    """Make the job's last change that long ago."""
    with tenant_context(studio):
        ClientImport.objects.filter(pk=job.pk).update(updated=timezone.now() - timedelta(**delta))


def stored(studio, job: ClientImport | int) -> ClientImport:
    with tenant_context(studio):
        return ClientImport.objects.get(pk=getattr(job, "pk", job))


def sweep_every_studio() -> int:
    # Beat queues the fan-out from the public schema; the eager test settings run everything inline.
    with schema_context("public"):
        return tasks.sweep_client_imports_all_studios.delay().result


def test_a_job_whose_task_couldnt_be_queued_is_run_by_the_sweep(
    as_user, manager_a, studio_a, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as broker:
        broker.setattr(tasks.run_client_import, "apply_async", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(as_user(manager_a), THREE_CLIENTS)
    job = stored(studio_a, response.json()["id"])
    # The upload was answered and kept; only its task is missing.
    assert (response.status_code, job.status) == (202, ImportStatus.QUEUED)
    assert emails(studio_a) == []

    age(studio_a, job, minutes=3)
    sweep_every_studio()

    job = stored(studio_a, job)
    assert (job.status, job.report["created"], bytes(job.content)) == (ImportStatus.SUCCEEDED, 3, b"")
    assert emails(studio_a) == ["ada@math.test", "bob@rock.test", "cyd@x.test"]


def test_a_job_queued_a_moment_ago_is_left_to_its_own_task(studio_a):
    job = job_in(studio_a)

    with tenant_context(studio_a):
        assert services.client_import_sweep() == (0, 0)

    assert stored(studio_a, job).status == ImportStatus.QUEUED
    assert emails(studio_a) == []


def test_a_job_left_queued_is_queued_again_once_per_interval_while_it_waits(studio_a, monkeypatch):
    """While the broker is down, every sweep queues it again; it isn't queued twice within the interval."""
    queued = []
    monkeypatch.setattr(tasks.run_client_import, "delay", lambda **kwargs: queued.append(kwargs))
    job = job_in(studio_a)
    age(studio_a, job, minutes=3)

    with tenant_context(studio_a):
        first = services.client_import_sweep()
        second = services.client_import_sweep()
        later = services.client_import_sweep(now=timezone.now() + services.IMPORT_REQUEUE_AFTER * 2)

    assert (first, second, later) == ((1, 0), (0, 0), (1, 0))
    assert queued == [{"import_id": job.pk}, {"import_id": job.pk}]
    assert stored(studio_a, job).status == ImportStatus.QUEUED


def test_a_running_job_with_no_progress_for_half_an_hour_is_failed_and_its_file_dropped(as_user, manager_a, studio_a):
    job = job_in(studio_a, status=ImportStatus.RUNNING, started_at=timezone.now() - timedelta(minutes=40))
    age(studio_a, job, minutes=31)

    sweep_every_studio()

    job = stored(studio_a, job)
    assert (job.status, job.error, bytes(job.content)) == (ImportStatus.FAILED, services.IMPORT_LOST, b"")
    assert job.finished_at is not None
    assert as_user(manager_a).get(f"/api/clients/imports/{job.pk}/").json()["status"] == "failed"


def test_a_long_running_job_that_made_progress_lately_is_left_alone(studio_a):
    job = job_in(studio_a, status=ImportStatus.RUNNING, started_at=timezone.now() - timedelta(hours=2), rows_done=2)
    age(studio_a, job, minutes=5)

    sweep_every_studio()

    job = stored(studio_a, job)
    assert (job.status, job.error, bytes(job.content)) == (ImportStatus.RUNNING, "", THREE_CLIENTS.encode())


def test_a_worker_lost_mid_import_leaves_a_running_job_that_the_sweep_fails_half_an_hour_later(studio_a, monkeypatch):
    job = job_in(studio_a)

    def worker_killed(parsed, *, lock=False, progress=None):
        progress(1)
        raise SystemExit(1)  # what the worker's warm shutdown raises; nothing catches it on the way out

    monkeypatch.setattr(services, "_import_plan", worker_killed)
    with tenant_context(studio_a), pytest.raises(SystemExit):
        services.client_import_run(import_id=job.pk)
    left = stored(studio_a, job)
    assert (left.status, left.rows_done, bytes(left.content)) == (ImportStatus.RUNNING, 1, THREE_CLIENTS.encode())

    with tenant_context(studio_a):
        soon = services.client_import_sweep(now=left.updated + timedelta(minutes=10))
        later = services.client_import_sweep(now=left.updated + timedelta(minutes=31))

    assert (soon, later) == ((0, 0), (0, 1))
    failed = stored(studio_a, job)
    assert (failed.status, bytes(failed.content)) == (ImportStatus.FAILED, b"")


def test_progress_is_what_keeps_a_running_job_alive(studio_a, monkeypatch):
    """Every batch's progress moves ``updated`` on, though it is written by a queryset update."""
    monkeypatch.setattr(services, "IMPORT_BATCH", 1)
    job = job_in(studio_a)
    age(studio_a, job, hours=1)
    seen = []
    check = services._import_plan

    def watched_plan(parsed, *, lock=False, progress=None):
        def report(matched):
            progress(matched)
            seen.append(ClientImport.objects.get(pk=job.pk).updated)

        return check(parsed, lock=lock, progress=report if progress else None)

    monkeypatch.setattr(services, "_import_plan", watched_plan)
    before = timezone.now()
    with tenant_context(studio_a):
        services.client_import_run(import_id=job.pk)

    assert len(seen) == 3
    assert all(moment >= before for moment in seen)
    assert stored(studio_a, job).updated >= seen[-1]


def test_a_job_the_sweep_gave_up_on_is_not_written_by_its_worker_coming_back(studio_a, monkeypatch):
    """A worker stalled for long and then resumed finds its job failed: it imports nothing, the failure stays."""
    job = job_in(studio_a)
    check = services._import_plan

    def stalled_plan(parsed, *, lock=False, progress=None):
        if progress is not None:
            # The sweep runs while this worker is stalled, an hour after its last sign of life.
            services.client_import_sweep(now=timezone.now() + timedelta(hours=1))
        return check(parsed, lock=lock, progress=progress)

    monkeypatch.setattr(services, "_import_plan", stalled_plan)
    with tenant_context(studio_a):
        services.client_import_run(import_id=job.pk)

    job = stored(studio_a, job)
    assert (job.status, job.error, job.report, bytes(job.content)) == (
        ImportStatus.FAILED,
        services.IMPORT_LOST,
        None,
        b"",
    )
    assert emails(studio_a) == []


def test_the_sweep_fans_out_once_per_studio_each_task_in_its_studio_s_schema(studio_a, studio_b, monkeypatch):
    queued_in = []
    monkeypatch.setattr(
        tasks.sweep_client_imports, "apply_async", lambda *args, **kwargs: queued_in.append(connection.schema_name)
    )

    count = sweep_every_studio()

    # tenant-schemas-celery writes the schema the connection is in when a task is queued into its headers.
    assert count == len(queued_in) >= 2
    assert {studio_a.schema_name, studio_b.schema_name} <= set(queued_in)
    assert "public" not in queued_in
    assert len(set(queued_in)) == len(queued_in)
    assert connection.schema_name == "public"


def test_each_studio_s_sweep_runs_its_own_jobs(studio_a, studio_b):
    jobs = {studio: job_in(studio) for studio in (studio_a, studio_b)}
    for studio, job in jobs.items():
        age(studio, job, minutes=3)

    sweep_every_studio()

    for studio, job in jobs.items():
        assert stored(studio, job).status == ImportStatus.SUCCEEDED
        with tenant_context(studio):
            assert Client.objects.count() == 3


def test_the_sweep_refuses_to_run_in_the_public_schema(db):
    connection.set_schema_to_public()

    with pytest.raises(RuntimeError, match="studio's schema"):
        tasks.sweep_client_imports.apply(throw=True)


def test_beat_runs_the_sweep_every_five_minutes():
    [entry] = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"].startswith("clients.")]

    assert entry["task"] == tasks.sweep_client_imports_all_studios.name
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 5 * 60


def test_the_upload_queues_its_job_through_the_shared_helper(as_user, manager_a, monkeypatch):
    helped = []
    monkeypatch.setattr(services, "queue_task_on_commit", lambda task, **kwargs: helped.append((task, kwargs)))

    job_id = upload(as_user(manager_a), THREE_CLIENTS).json()["id"]

    assert helped == [(tasks.run_client_import, {"import_id": job_id})]


def test_a_task_queued_on_commit_carries_the_schema_it_was_queued_in(
    studio_a, monkeypatch, django_capture_on_commit_callbacks
):
    from shared_apps.core.tasks import queue_task_on_commit

    queued = []
    monkeypatch.setattr(
        tasks.run_client_import, "apply_async", lambda *args, **kwargs: queued.append(connection.schema_name)
    )
    with tenant_context(studio_a), django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue_task_on_commit(tasks.run_client_import, import_id=1)
    # Whatever schema the connection has moved to by the time the callback runs, the task carries the studio's.
    connection.set_schema_to_public()
    callbacks[0]()

    assert queued == [studio_a.schema_name]
