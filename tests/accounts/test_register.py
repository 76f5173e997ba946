import pytest
from django_tenants.utils import schema_context, tenant_context

from shared_apps.accounts.models import Role, User
from tests.conftest import run_committed, run_in_threads

pytestmark = pytest.mark.django_db
URL = "/api/users/register/"
BODY = {"email": "New.Client@Example.com", "password": "Sunny-Squat-77", "first_name": "Nia", "last_name": "Long"}


def test_a_client_registers_and_gets_a_token(anon_a, studio_a):
    response = anon_a.post(URL, {**BODY, "phone": "+44 20 7946 0958"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new.client@example.com"
    assert body["user_type"] == "client"
    assert len(body["token"]) == 40
    with tenant_context(studio_a):
        user = User.objects.get(email="new.client@example.com")
        assert user.role == Role.CLIENT
        assert str(user.phone) == "+442079460958"
    assert anon_a.get("/api/users/me/", HTTP_AUTHORIZATION=f"Token {body['token']}").status_code == 200


def test_the_account_exists_only_in_the_studio_it_registered_with(anon_a, anon_b, studio_b):
    anon_a.post(URL, BODY, format="json")

    with tenant_context(studio_b):
        assert not User.objects.filter(email__iexact=BODY["email"]).exists()
    with schema_context("public"):
        assert not User.objects.filter(email__iexact=BODY["email"]).exists()
    # The same person may be a client of another studio, with its own account.
    assert anon_b.post(URL, BODY, format="json").status_code == 201


def test_an_email_already_registered_in_any_case_is_refused(anon_a, client_a):
    response = anon_a.post(URL, {**BODY, "email": client_a.email.upper()}, format="json")

    assert response.status_code == 400
    assert response.json()["fields"] == {"email": ["An account with this email already exists."]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"password": "password"}, "password"),
        ({"password": "nia"}, "password"),
        ({"first_name": ""}, "first_name"),
        ({"phone": "12"}, "phone"),
    ],
)
def test_bad_input_gets_field_errors_and_creates_nothing(anon_a, studio_a, change, field):
    response = anon_a.post(URL, {**BODY, **change}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    with tenant_context(studio_a):
        assert User.objects.filter(role=Role.CLIENT).count() == 0


def test_missing_fields_and_malformed_json(anon_a):
    missing = anon_a.post(URL, {}, format="json")
    malformed = anon_a.post(URL, '{"email": ', content_type="application/json")

    assert set(missing.json()["fields"]) == {"email", "password", "first_name", "last_name"}
    assert malformed.status_code == 400
    assert malformed.json() == {"code": "parse_error", "detail": malformed.json()["detail"], "fields": {}}


def test_two_sign_ups_racing_for_one_email_create_one_account(studio_a):
    from tests.conftest import api_client

    results = run_in_threads(
        4, lambda _i: api_client("alpha.localhost").post(URL, {**BODY, "email": "racer@example.com"}, format="json")
    )

    def cleanup():
        from tenant_apps.clients.models import Client

        with tenant_context(studio_a):
            # The sign-up also put the racer in the client book; that record outlives the account otherwise.
            Client.objects.filter(email="racer@example.com").delete()
            return User.objects.filter(email="racer@example.com").delete()

    deleted = run_committed(cleanup)
    assert sorted(result.status_code for result in results) == [201, 400, 400, 400]
    assert deleted[1].get("accounts.User") == 1
