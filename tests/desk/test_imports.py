"""The desk's client import and export: a dry run's report first (nothing written, errors by row and column), the
import once confirmed, a job with a progress bar for a large file, and the API's export; owner and managers only."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as Browser
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import User
from tenant_apps.clients.models import Client, ClientImport
from tenant_apps.desk import imports as imports_view
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
IMPORT = "/desk/clients/import/"
CONFIRM = "/desk/clients/import/confirm/"
EXPORT = "/desk/clients/export/"
BAD = "email,first_name,fitness_level\nada@math.test,Ada,beginner\nnot-an-email,Bob,\ncyd@x.test,Cyd,expert\n"
GOOD = "email,first_name,fitness_level\nada@math.test,Ada,beginner\nbob@rock.test,Bob,\ncyd@x.test,Cyd,advanced\n"


def _browser(studio, user=None) -> Browser:
    browser = Browser(HTTP_HOST=f"{studio.slug}.localhost")
    if user is not None:
        with tenant_context(studio):
            browser.force_login(user)
    return browser


def _upload(browser, text: str, name: str = "clients.csv"):
    return browser.post(IMPORT, {"file": SimpleUploadedFile(name, text.encode(), "text/csv")})


def _emails(studio) -> list[str]:
    with tenant_context(studio):
        return sorted(Client.objects.values_list("email", flat=True))


def _upload_token(response) -> str:
    html = response.content.decode()
    marker = 'name="upload" value="'
    assert marker in html, html
    return html.split(marker, 1)[1].split('"', 1)[0]


@pytest.mark.parametrize("who", ["owner_a", "manager_a"])
def test_owner_and_managers_see_the_upload_form(studio_a, who, request):
    response = _browser(studio_a, request.getfixturevalue(who)).get(IMPORT)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in html and 'name="file"' in html
    assert f'href="{EXPORT}"' in html


def test_a_bad_row_is_reported_by_row_and_column_and_nothing_is_written(studio_a, owner_a):
    response = _upload(_browser(studio_a, owner_a), BAD)
    html = response.content.decode()

    assert response.status_code == 400
    assert "2 rows with errors: nothing was imported" in html
    assert "<tr><td>3</td><td>email</td><td>Enter a valid email address.</td></tr>" in html
    assert "<tr><td>4</td><td>fitness_level</td><td>Use beginner, intermediate or advanced.</td></tr>" in html
    assert 'action="/desk/clients/import/confirm/"' not in html  # nothing to confirm
    assert _emails(studio_a) == []


def test_a_fixed_file_is_reported_then_imported_only_once_confirmed(studio_a, manager_a):
    browser = _browser(studio_a, manager_a)
    with tenant_context(studio_a):
        ClientFactory(email="ada@math.test", first_name="Ada", fitness_level="beginner")
    assert _upload(browser, BAD).status_code == 400

    report = _upload(browser, GOOD)
    html = report.content.decode()

    assert report.status_code == 200
    assert "<dt>To create</dt><dd>2</dd>" in html
    assert "<dt>To update</dt><dd>0</dd>" in html
    assert "<dt>Unchanged (skipped)</dt><dd>1</dd>" in html
    assert _emails(studio_a) == ["ada@math.test"]  # the dry run wrote nothing

    done = browser.post(CONFIRM, {"upload": _upload_token(report)}, follow=True)

    assert done.status_code == 200
    assert "Imported: 2 created, 0 updated, 1 unchanged." in done.content.decode()
    assert _emails(studio_a) == ["ada@math.test", "bob@rock.test", "cyd@x.test"]
    # The token is spent: a second confirmation imports nothing again.
    again = browser.post(CONFIRM, {"upload": _upload_token(report)}, follow=True)
    assert "upload it again" in again.content.decode()


def test_an_upload_token_is_its_uploaders_only(studio_a, owner_a, manager_a):
    report = _upload(_browser(studio_a, owner_a), GOOD)

    response = _browser(studio_a, manager_a).post(CONFIRM, {"upload": _upload_token(report)}, follow=True)

    assert "upload it again" in response.content.decode()
    assert _emails(studio_a) == []


def test_a_file_that_is_not_csv_is_an_error_on_the_form(studio_a, owner_a):
    response = _upload(_browser(studio_a, owner_a), "first,second\n1,2\n")
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and "No email column" in html


def test_a_missing_file_is_an_error_on_the_form(studio_a, owner_a):
    response = _browser(studio_a, owner_a).post(IMPORT, {})
    assert response.status_code == 400
    assert "Choose a CSV file to check." in response.content.decode()


def test_a_large_file_is_checked_by_a_job_whose_progress_the_page_polls(
    studio_a, owner_a, settings, django_capture_on_commit_callbacks
):
    settings.CLIENT_IMPORT_SYNC_MAX_BYTES = 10
    browser = _browser(studio_a, owner_a)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = _upload(browser, GOOD, name="big.csv")
    assert response.status_code == 302
    job_url = response["Location"]
    assert job_url.startswith("/desk/clients/import/jobs/")

    waiting = browser.get(job_url)
    html = waiting.content.decode()
    assert 'hx-trigger="every 1s"' in html and "<progress" in html
    assert '<label for="import-progress">' in html
    assert "<h1>Checking big.csv</h1>" in html

    for callback in queued:  # the worker runs the dry run
        callback()
    partial = browser.get(job_url, headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert partial.status_code == 200 and "<h1>" not in html  # the part only
    assert "hx-trigger" not in html  # done: the polling stops
    assert "<dt>To create</dt><dd>3</dd>" in html
    assert "HX-Request" in partial["Vary"]
    assert _emails(studio_a) == []

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = browser.post(CONFIRM, {"upload": _upload_token(partial)})
    assert confirmed.status_code == 302
    assert _emails(studio_a) == ["ada@math.test", "bob@rock.test", "cyd@x.test"]
    assert "The import is done." in browser.get(confirmed["Location"]).content.decode()


def test_a_job_with_errors_reports_them(studio_a, owner_a, settings, django_capture_on_commit_callbacks):
    settings.CLIENT_IMPORT_SYNC_MAX_BYTES = 10
    browser = _browser(studio_a, owner_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(browser, BAD)
    html = browser.get(response["Location"]).content.decode()
    assert "<tr><td>3</td><td>email</td>" in html
    assert 'name="upload"' not in html
    assert _emails(studio_a) == []


def test_export_downloads_the_apis_csv(studio_a, owner_a, as_user):
    with tenant_context(studio_a):
        ClientFactory(email="ada@math.test", first_name="Ada", last_name="Lovelace", tags=["vip"])

    response = _browser(studio_a, owner_a).get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="clients.csv"'
    body = response.content.decode()
    assert body.splitlines()[1].startswith("ada@math.test,Ada,Lovelace,")
    assert body == as_user(owner_a).get("/api/clients/export/").content.decode()


@pytest.mark.parametrize("url", [IMPORT, EXPORT, "/desk/clients/import/jobs/1/"])
def test_a_trainer_and_a_client_are_refused_and_a_visitor_sent_to_sign_in(studio_a, trainer_a, client_a, url):
    trainer = _browser(studio_a, trainer_a).get(url)
    assert trainer.status_code == 403 and "owner and managers" in trainer.content.decode()
    assert _browser(studio_a, client_a).get(url).status_code == 403
    visitor = _browser(studio_a).get(url)
    assert visitor.status_code == 302 and "/accounts/login/" in visitor["Location"]


def test_a_trainer_cannot_import(studio_a, trainer_a):
    response = _upload(_browser(studio_a, trainer_a), GOOD)
    assert response.status_code == 403
    assert _emails(studio_a) == []


def test_another_studios_owner_is_sent_to_sign_in(studio_a, studio_b):
    with tenant_context(studio_b):
        owner_b = User.objects.get(email="owner@bravo.test")
    browser = _browser(studio_b, owner_b)
    browser.defaults["HTTP_HOST"] = f"{studio_a.slug}.localhost"
    for response in (browser.get(EXPORT), _upload(browser, GOOD)):
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert _emails(studio_a) == []


def test_another_studios_job_is_not_found(studio_a, studio_b, owner_a):
    with tenant_context(studio_b):
        job = ClientImport.objects.create(content=b"", file_name="b.csv")
    with tenant_context(studio_a):
        assert not ClientImport.objects.filter(pk=job.pk).exists()
    assert _browser(studio_a, owner_a).get(f"/desk/clients/import/jobs/{job.pk}/").status_code == 404


# -- limits and the confirmation's claim -------------------------------------------------------------------------


def test_a_file_over_the_limit_is_refused_before_it_is_read(studio_a, owner_a, monkeypatch):
    monkeypatch.setattr("tenant_apps.desk.imports.IMPORT_MAX_BYTES", 1024 * 1024)
    big = GOOD + "x" * (1024 * 1024 + 128 * 1024)

    response = _upload(_browser(studio_a, owner_a), big)

    assert response.status_code == 413
    assert "The file is larger than 1 MB." in response.content.decode()
    assert _emails(studio_a) == []


def test_a_file_over_the_limit_within_the_requests_slack_is_refused_by_the_form(studio_a, owner_a, monkeypatch):
    monkeypatch.setattr("tenant_apps.desk.imports.IMPORT_MAX_BYTES", len(GOOD) - 1)

    response = _upload(_browser(studio_a, owner_a), GOOD)

    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and "The file is larger than 0 MB." in html
    assert 'name="upload"' not in html


def test_a_file_that_is_not_utf_8_is_an_error_on_the_form(studio_a, owner_a):
    latin = "email,first_name\nzoe@x.test,Zoë\n".encode("latin-1")
    response = _browser(studio_a, owner_a).post(IMPORT, {"file": SimpleUploadedFile("c.csv", latin, "text/csv")})
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert _emails(studio_a) == []


def test_of_two_confirmations_at_once_only_one_imports(studio_a, owner_a, monkeypatch):
    """The second confirmation arrives while the first has read the file but not yet claimed it: the claim (the
    cache's delete) is the first's only if it still finds the file, so one of them imports."""
    browser = _browser(studio_a, owner_a)
    token = _upload_token(_upload(browser, GOOD))
    imports = []
    real_import = imports_view.services.client_import_csv
    monkeypatch.setattr(
        imports_view.services, "client_import_csv", lambda **kwargs: imports.append(1) or real_import(**kwargs)
    )
    real_get, answers = imports_view.cache.get, []

    def get_then_let_the_other_in(key, *args, **kwargs):
        content = real_get(key, *args, **kwargs)
        if key.startswith("desk-import:") and not answers:
            answers.append(None)
            answers[0] = browser.post(CONFIRM, {"upload": token})  # the second, in the first's window
        return content

    monkeypatch.setattr(imports_view.cache, "get", get_then_let_the_other_in)

    first = browser.post(CONFIRM, {"upload": token}, follow=True)

    assert answers[0].status_code == 302 and imports == [1]
    assert "upload it again" in first.content.decode()
    assert _emails(studio_a) == ["ada@math.test", "bob@rock.test", "cyd@x.test"]
