"""Large CSV imports run as a Celery job: 202 and a job to poll, progress, the same report, all or nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from tenant_apps.clients import services, tasks
from tenant_apps.clients.models import Client, ClientImport, ImportStatus
from tests.conftest import make_user, run_committed, run_in_threads
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
IMPORT = "/api/clients/import/"
THREE_CLIENTS = "email,first_name,last_name\nada@math.test,Ada,Lovelace\nbob@rock.test,Bob,\ncyd@x.test,Cyd,\n"


@pytest.fixture
def small_threshold(settings):
    """Every file of these tests is above the threshold, so it is imported by a job."""
    settings.CLIENT_IMPORT_SYNC_MAX_BYTES = 10


def upload(api, text: str, dry_run: bool = False):
    return api.post(
        IMPORT,
        {"file": SimpleUploadedFile("clients.csv", text.encode(), "text/csv"), "dry_run": str(dry_run).lower()},
        format="multipart",
    )


def import_in_background(api, text: str, capture, dry_run: bool = False):
    """POST the file and run what its transaction queued on commit (the task, eagerly in the test suite)."""
    with capture(execute=True):
        response = upload(api, text, dry_run=dry_run)
    assert response.status_code == 202, response.json()
    return response


def emails(studio) -> list[str]:
    with tenant_context(studio):
        return sorted(Client.objects.values_list("email", flat=True))


def test_a_large_file_gets_202_and_a_job_that_imports_it(
    as_user, manager_a, studio_a, small_threshold, django_capture_on_commit_callbacks
):
    api = as_user(manager_a)

    response = import_in_background(api, THREE_CLIENTS, django_capture_on_commit_callbacks)
    job = api.get(response["Location"])

    body = response.json()
    assert body["status"] == "queued"
    assert response["Location"] == body["url"]
    assert body["url"].endswith(f"/api/clients/imports/{body['id']}/")
    assert job.status_code == 200
    assert job.json() | {"started_at": None, "finished_at": None} == body | {
        "status": "succeeded",
        "rows_total": 3,
        "rows_done": 3,
        "report": {"created": 3, "updated": 0, "skipped": 0, "errors": []},
    }
    assert job.json()["finished_at"] is not None
    assert emails(studio_a) == ["ada@math.test", "bob@rock.test", "cyd@x.test"]


def test_the_job_is_queued_only_once_the_upload_is_committed_and_the_file_is_dropped_once_done(
    as_user, manager_a, studio_a, small_threshold, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = upload(as_user(manager_a), THREE_CLIENTS)
    with tenant_context(studio_a):
        waiting = ClientImport.objects.get(pk=response.json()["id"])

    assert len(queued) == 1
    assert (waiting.status, bytes(waiting.content), waiting.created_by_id) == (
        ImportStatus.QUEUED,
        THREE_CLIENTS.encode(),
        manager_a.pk,
    )
    assert emails(studio_a) == []

    queued[0]()

    with tenant_context(studio_a):
        waiting.refresh_from_db()
    assert waiting.status == ImportStatus.SUCCEEDED
    assert bytes(waiting.content) == b""
    assert len(emails(studio_a)) == 3


def test_a_file_up_to_the_threshold_is_imported_at_once_as_before(
    as_user, manager_a, studio_a, settings, django_capture_on_commit_callbacks
):
    settings.CLIENT_IMPORT_SYNC_MAX_BYTES = len(THREE_CLIENTS.encode())

    with django_capture_on_commit_callbacks() as queued:
        response = upload(as_user(manager_a), THREE_CLIENTS)

    assert response.status_code == 200
    assert response.json() == {"created": 3, "updated": 0, "skipped": 0, "errors": []}
    assert queued == []
    with tenant_context(studio_a):
        assert not ClientImport.objects.exists()
    assert len(emails(studio_a)) == 3
    # One byte over, and the same file is a job.
    settings.CLIENT_IMPORT_SYNC_MAX_BYTES -= 1
    assert upload(as_user(manager_a), THREE_CLIENTS).status_code == 202


def test_a_dry_run_job_reports_and_writes_nothing(
    as_user, manager_a, studio_a, small_threshold, django_capture_on_commit_callbacks
):
    with tenant_context(studio_a):
        ClientFactory(email="ada@math.test", first_name="Ada", last_name="Byron")
    api = as_user(manager_a)

    response = import_in_background(api, THREE_CLIENTS, django_capture_on_commit_callbacks, dry_run=True)
    job = api.get(response["Location"]).json()

    assert (job["status"], job["dry_run"]) == ("succeeded", True)
    assert job["report"] == {"created": 2, "updated": 1, "skipped": 0, "errors": []}
    assert emails(studio_a) == ["ada@math.test"]
    with tenant_context(studio_a):
        assert Client.objects.get().last_name == "Byron"


def test_a_file_with_errors_fails_writes_nothing_and_reports_what_the_immediate_import_answers(
    as_user, manager_a, studio_a, settings, django_capture_on_commit_callbacks
):
    text = "email,first_name,fitness_level\ngood@x.test,Good,\nnot-an-email,Bad,\nlevel@x.test,Level,olympian\n"
    api = as_user(manager_a)
    immediate = upload(api, text)
    settings.CLIENT_IMPORT_SYNC_MAX_BYTES = 10

    response = import_in_background(api, text, django_capture_on_commit_callbacks)
    job = api.get(response["Location"]).json()

    assert immediate.status_code == 400
    assert job["status"] == "failed"
    assert job["report"] == immediate.json()
    assert [(e["row"], e["field"]) for e in job["report"]["errors"]] == [(3, "email"), (4, "fitness_level")]
    assert job["error"] == "2 rows have errors; nothing was imported."
    assert (job["rows_done"], job["rows_total"]) == (3, 3)
    assert emails(studio_a) == []


def test_a_file_that_is_not_a_client_csv_fails_with_the_reason(
    as_user, manager_a, studio_a, small_threshold, django_capture_on_commit_callbacks
):
    api = as_user(manager_a)

    response = import_in_background(api, "name,phone\nAda,123\nBob,456\n", django_capture_on_commit_callbacks)
    job = api.get(response["Location"]).json()

    assert job["status"] == "failed"
    assert job["report"]["code"] == "invalid_import"
    assert "email column" in job["report"]["fields"]["file"][0]
    assert job["rows_total"] is None
    assert emails(studio_a) == []


def test_a_second_delivery_of_the_task_does_nothing(
    as_user, manager_a, studio_a, small_threshold, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        job_id = upload(as_user(manager_a), THREE_CLIENTS).json()["id"]

    with tenant_context(studio_a):
        first = tasks.run_client_import.delay(job_id).result
        # Had the second delivery run the file again, it would set Ada's name back.
        Client.objects.filter(email="ada@math.test").update(last_name="Byron")
        finished = ClientImport.objects.get(pk=job_id).finished_at
        second = tasks.run_client_import.delay(job_id).result

        assert (first, second) == ("succeeded", None)
        assert Client.objects.get(email="ada@math.test").last_name == "Byron"
        assert ClientImport.objects.get(pk=job_id).finished_at == finished


def test_progress_is_written_after_every_batch(studio_a, monkeypatch):
    """Seen from the database: each batch's progress is an UPDATE of the job row as the rows are checked."""
    monkeypatch.setattr(services, "IMPORT_BATCH", 2)
    text = "email,first_name\n" + "".join(f"c{index}@x.test,C{index}\n" for index in range(5))
    seen: list[tuple[int, int]] = []
    check = services._import_plan

    def watched_plan(parsed, *, lock=False, progress=None):
        def report(matched):
            progress(matched)
            job = ClientImport.objects.get()
            seen.append((job.rows_done, job.rows_total))

        return check(parsed, lock=lock, progress=report if progress else None)

    monkeypatch.setattr(services, "_import_plan", watched_plan)
    with tenant_context(studio_a):
        job = ClientImport.objects.create(content=text.encode())

        services.client_import_run(import_id=job.pk)

        assert seen == [(2, 5), (4, 5), (5, 5)]
        assert Client.objects.count() == 5


def test_progress_is_committed_while_the_job_runs(studio_a, monkeypatch):
    """The rows are checked outside the import's transaction, so another connection sees the progress."""
    monkeypatch.setattr(services, "IMPORT_BATCH", 2)
    text = "email,first_name\n" + "".join(f"c{index}@x.test,C{index}\n" for index in range(4))
    seen_elsewhere: list[int] = []
    check = services._import_plan

    def watched_plan(parsed, *, lock=False, progress=None):
        def report(matched):
            progress(matched)
            seen_elsewhere.append(run_in_threads(1, lambda _index: rows_done_of(job_id))[0])

        return check(parsed, lock=lock, progress=report if progress else None)

    def rows_done_of(import_id):
        with tenant_context(studio_a):
            return ClientImport.objects.get(pk=import_id).rows_done

    def create_job():
        with tenant_context(studio_a):
            return ClientImport.objects.create(content=text.encode()).pk

    def run_job():
        with tenant_context(studio_a):
            return services.client_import_run(import_id=job_id).status

    def clean_up():
        with tenant_context(studio_a):
            Client.objects.filter(email__endswith="@x.test").delete()
            ClientImport.objects.filter(pk=job_id).delete()

    monkeypatch.setattr(services, "_import_plan", watched_plan)
    job_id = run_committed(create_job)
    try:
        status = run_committed(run_job)
    finally:
        run_committed(clean_up)

    assert status == ImportStatus.SUCCEEDED
    assert seen_elsewhere == [2, 4]


def test_emails_are_matched_whatever_their_case(
    as_user, manager_a, studio_a, small_threshold, django_capture_on_commit_callbacks
):
    with tenant_context(studio_a):
        ClientFactory(email="Ada@math.test", first_name="Ada", last_name="Byron")
    api = as_user(manager_a)

    response = import_in_background(
        api, "email,last_name\nada@MATH.test,Lovelace\n", django_capture_on_commit_callbacks
    )

    assert api.get(response["Location"]).json()["report"]["updated"] == 1
    with tenant_context(studio_a):
        assert list(Client.objects.values_list("email", "last_name")) == [("Ada@math.test", "Lovelace")]


def test_trainers_clients_and_anonymous_users_cant_start_or_read_a_job(
    as_user, anon_a, manager_a, trainer_a, client_a, owner_a, small_threshold, django_capture_on_commit_callbacks
):
    job_url = import_in_background(as_user(manager_a), THREE_CLIENTS, django_capture_on_commit_callbacks)["Location"]

    assert as_user(owner_a).get(job_url).status_code == 200
    assert as_user(trainer_a).get(job_url).status_code == 403
    assert as_user(client_a).get(job_url).status_code == 403
    assert anon_a.get(job_url).status_code == 401
    assert upload(as_user(trainer_a), THREE_CLIENTS).status_code == 403
    assert upload(as_user(client_a), THREE_CLIENTS).status_code == 403


def test_another_studios_job_is_not_found(
    as_user, manager_a, studio_a, studio_b, small_threshold, django_capture_on_commit_callbacks
):
    owner_b = make_user(studio_b, role="owner", email="boss@bravo.test")

    response = import_in_background(as_user(owner_b, studio_b), THREE_CLIENTS, django_capture_on_commit_callbacks)
    job_id = response.json()["id"]

    assert as_user(owner_b, studio_b).get(response["Location"]).json()["status"] == "succeeded"
    assert as_user(manager_a).get(f"/api/clients/imports/{job_id}/").status_code == 404
    assert emails(studio_b) == ["ada@math.test", "bob@rock.test", "cyd@x.test"]
    assert emails(studio_a) == []
