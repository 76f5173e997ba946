import pytest
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def test_logout_deletes_the_token(as_user, client_a, studio_a):
    api = as_user(client_a)

    response = api.post("/api/users/logout/")

    assert response.status_code == 204
    with tenant_context(studio_a):
        assert not Token.objects.filter(user=client_a).exists()
    assert api.get("/api/users/me/").status_code == 401


def test_logout_needs_a_login(anon_a):
    response = anon_a.post("/api/users/logout/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
