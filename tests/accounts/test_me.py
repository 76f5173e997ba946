import pytest
from django_tenants.utils import tenant_context

pytestmark = pytest.mark.django_db
URL = "/api/users/me/"


def test_me_shows_the_callers_own_account(as_user, manager_a):
    response = as_user(manager_a).get(URL)

    assert response.status_code == 200
    assert response.json()["email"] == manager_a.email
    assert response.json()["user_type"] == "manager"
    assert "password" not in response.json()


def test_patch_changes_names_and_phone_but_not_email_or_role(as_user, client_a, studio_a):
    response = as_user(client_a).patch(
        URL, {"first_name": "Ada", "phone": "+1 415 555 2671", "role": "owner", "email": "x@y.z"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["first_name"] == "Ada"
    assert response.json()["phone"] == "+14155552671"
    with tenant_context(studio_a):
        client_a.refresh_from_db()
    assert (client_a.role, client_a.email) == ("client", "client@alpha.test")


def test_an_invalid_phone_is_refused(as_user, client_a):
    response = as_user(client_a).patch(URL, {"phone": "call me"}, format="json")

    assert response.status_code == 400
    assert "phone" in response.json()["fields"]


def test_me_needs_a_login(anon_a):
    assert anon_a.get(URL).status_code == 401
