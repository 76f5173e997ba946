"""CSV import and export: aliases, BOM, separators, all-or-nothing validation, round trip, formula cells, size."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from tenant_apps.clients.models import Client
from tests.conftest import make_user
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
IMPORT = "/api/clients/import/"
EXPORT = "/api/clients/export/"


def upload(api, text: str | bytes, dry_run: bool = False, name: str = "clients.csv"):
    content = text.encode() if isinstance(text, str) else text
    return api.post(
        IMPORT,
        {"file": SimpleUploadedFile(name, content, "text/csv"), "dry_run": str(dry_run).lower()},
        format="multipart",
    )


def clients(studio) -> dict[str, dict]:
    with tenant_context(studio):
        return {
            c.email: {"first": c.first_name, "last": c.last_name, "phone": str(c.phone), "level": c.fitness_level,
                      "tags": c.tags, "active": c.is_active}
            for c in Client.objects.all()
        }  # fmt: skip


def test_headers_are_matched_by_alias_and_case_with_a_bom_and_semicolons(as_user, manager_a, studio_a):
    text = (
        "\ufeffE-Mail;First Name;Surname;Mobile;Fitness Level;Tags\n"
        "ada@math.test;Ada;Lovelace;+44 20 7946 0958;Advanced;vip|morning\n"
        "bob@rock.test;Bob;Stone;;beginner;\n"
    )

    response = upload(as_user(manager_a), text)

    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 2, "updated": 0, "skipped": 0, "errors": []}
    assert clients(studio_a)["ada@math.test"] == {
        "first": "Ada",
        "last": "Lovelace",
        "phone": "+442079460958",
        "level": "advanced",
        "tags": ["vip", "morning"],
        "active": True,
    }


def test_a_dry_run_reports_and_writes_nothing(as_user, manager_a, studio_a):
    response = upload(as_user(manager_a), "email,first name\nada@math.test,Ada\n", dry_run=True)

    assert response.json()["created"] == 1
    assert clients(studio_a) == {}


def test_existing_clients_are_updated_by_email_and_empty_cells_change_nothing(as_user, manager_a, studio_a):
    with tenant_context(studio_a):
        ClientFactory(email="ada@math.test", first_name="Ada", last_name="Byron", phone="+442079460958")

    response = upload(as_user(manager_a), "email,first_name,last_name,phone\nADA@math.test,Ada,Lovelace,\n")

    assert response.json() == {"created": 0, "updated": 1, "skipped": 0, "errors": []}
    assert clients(studio_a)["ada@math.test"]["last"] == "Lovelace"
    assert clients(studio_a)["ada@math.test"]["phone"] == "+442079460958"


def test_any_bad_row_means_nothing_is_written_and_every_error_is_reported(as_user, manager_a, studio_a):
    text = (
        "email,first_name,phone,fitness_level\n"
        "good@x.test,Good,,\n"
        "not-an-email,Bad,,\n"
        "dup@x.test,Dup,,\n"
        "DUP@x.test,Dup again,,\n"
        "level@x.test,Level,+1 415 555 2671,olympian\n"
        "phone@x.test,Phone,12345,\n"
        "noname@x.test,,,\n"
    )

    response = upload(as_user(manager_a), text)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_import"
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (3, "email"),
        (5, "email"),
        (6, "fitness_level"),
        (7, "phone"),
        (8, "first_name"),
    ]
    assert "row 3" in body["errors"][1]["message"] or "row 4" in body["errors"][1]["message"]
    assert clients(studio_a) == {}


@pytest.mark.parametrize(
    "content",
    [b"", b"\xff\xfe\x00b\x00a\x00d", b"name,phone\nAda,123\n", b'email,first_name\n"unterminated,Ada\n'],
)
def test_files_that_are_not_a_client_csv_are_refused(as_user, manager_a, studio_a, content):
    response = upload(as_user(manager_a), content)

    assert response.status_code == 400
    assert response.json()["code"] in ("invalid_import", "invalid")
    assert clients(studio_a) == {}


def test_an_oversized_upload_is_refused_with_413_before_it_is_read(as_user, manager_a, studio_a):
    big = b"email,first_name\n" + b"x@y.test,X\n" * 1_000_000  # ~11 MB

    response = upload(as_user(manager_a), big)

    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert clients(studio_a) == {}


def test_export_then_import_changes_nothing(as_user, manager_a, studio_a):
    with tenant_context(studio_a):
        ClientFactory(
            email="ada@math.test",
            first_name="Ada",
            last_name="Lovelace",
            phone="+442079460958",
            fitness_level="advanced",
            tags=["vip", "morning"],
            notes='Likes, commas; and "quotes"',
        )
        ClientFactory(email="bob@rock.test", first_name="Bob", last_name="", is_active=False)
    before = clients(studio_a)
    api = as_user(manager_a)

    exported = api.get(EXPORT)
    again = upload(api, exported.content)

    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("text/csv")
    assert again.json() == {"created": 0, "updated": 0, "skipped": 2, "errors": []}
    assert clients(studio_a) == before


def test_export_makes_formula_cells_inert(as_user, manager_a, studio_a):
    with tenant_context(studio_a):
        ClientFactory(email="evil@x.test", first_name="=cmd|' /C calc'!A0", last_name="@SUM(A1)", notes="-2+3")

    body = as_user(manager_a).get(EXPORT).content.decode()

    assert "'=cmd|' /C calc'!A0" in body
    assert "'@SUM(A1)" in body and "'-2+3" in body
    # ...and importing the export gives back the original values.
    assert upload(as_user(manager_a), body).json()["skipped"] == 1


def test_trainers_clients_anonymous_and_other_studios_are_refused(as_user, anon_a, trainer_a, client_a, studio_b):
    owner_b = make_user(studio_b, role="owner", email="boss@bravo.test")
    text = "email,first_name\nada@math.test,Ada\n"

    assert upload(as_user(trainer_a), text).status_code == 403
    assert upload(as_user(client_a), text).status_code == 403
    assert anon_a.get(EXPORT).status_code == 401
    assert as_user(trainer_a).get(EXPORT).status_code == 403
    # Studio B's import writes to studio B only.
    assert upload(as_user(owner_b, studio_b), text).json()["created"] == 1
