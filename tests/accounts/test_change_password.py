import pytest
from django_tenants.utils import tenant_context

from tests.conftest import api_client
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
URL = "/api/users/change-password/"


def test_changing_the_password_rotates_the_token(as_user, client_a, studio_a):
    api = as_user(client_a)

    response = api.post(URL, {"old_password": PASSWORD, "new_password": "Brand-New-Lunge-9"}, format="json")

    assert response.status_code == 200
    new_token = response.json()["token"]
    assert api.get("/api/users/me/").status_code == 401  # the old token is gone
    assert api_client("alpha.localhost", new_token).get("/api/users/me/").status_code == 200
    with tenant_context(studio_a):
        client_a.refresh_from_db()
        assert client_a.check_password("Brand-New-Lunge-9")


def test_a_wrong_old_password_changes_nothing(as_user, client_a, studio_a):
    api = as_user(client_a)

    response = api.post(URL, {"old_password": "wrong", "new_password": "Brand-New-Lunge-9"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"old_password"}
    assert api.get("/api/users/me/").status_code == 200
    with tenant_context(studio_a):
        client_a.refresh_from_db()
        assert client_a.check_password(PASSWORD)


@pytest.mark.parametrize("weak", ["short", "12345678901", "password123", "client@alpha.test"])
def test_django_password_validators_apply(as_user, client_a, weak):
    response = as_user(client_a).post(URL, {"old_password": PASSWORD, "new_password": weak}, format="json")

    assert response.status_code == 400
    assert "new_password" in response.json()["fields"]


def test_change_password_needs_a_login(anon_a):
    assert anon_a.post(URL, {"old_password": "a", "new_password": "b"}, format="json").status_code == 401
