"""What belongs to one studio means nothing on another, nor on the platform host, and the reverse."""

import pytest
from django.test import Client

from tests.conftest import api_client, host_of, token_of
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_token_from_studio_a_is_refused_on_studio_b(owner_a, studio_a, studio_b):
    key = token_of(owner_a, studio_a)

    assert api_client(host_of(studio_a), key).get("/api/users/me/").status_code == 200
    response = api_client(host_of(studio_b), key).get("/api/users/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_session_cookie_from_studio_a_is_refused_on_studio_b(owner_a, studio_a, studio_b):
    browser = Client(HTTP_HOST=host_of(studio_a))
    login = browser.post("/accounts/login/", {"login": owner_a.email, "password": PASSWORD})
    assert login.status_code == 302
    assert browser.get("/api/users/me/").status_code == 200
    cookie = browser.cookies["sessionid"]
    assert not cookie["domain"]  # host-only: a browser would never send it to another studio

    # Even when replayed by hand, the session does not exist in studio B's schema.
    replay = Client(HTTP_HOST=host_of(studio_b))
    replay.cookies["sessionid"] = cookie.value
    assert replay.get("/api/users/me/").status_code in (401, 403)
    assert "Log in" in replay.get("/").content.decode()


def test_an_object_id_from_studio_a_is_a_404_on_studio_b(studio_a, studio_b, as_user):
    from shared_apps.accounts.models import Role
    from tests.conftest import make_user

    coach_a = make_user(studio_a, pk=9002, role=Role.TRAINER, email="coach@alpha.test")
    manager_a = make_user(studio_a, role=Role.MANAGER, email="manager@alpha.test")
    manager_b = make_user(studio_b, role=Role.MANAGER, email="manager@bravo.test")

    assert as_user(manager_a, studio_a).get(f"/api/staff/{coach_a.pk}/").status_code == 200
    assert as_user(manager_b, studio_b).get(f"/api/staff/{coach_a.pk}/").status_code == 404


def test_a_platform_admin_token_means_nothing_on_a_studio_host(platform_admin, studio_a):
    key = token_of(platform_admin)

    assert api_client("localhost", key).get("/api/users/me/").status_code == 200
    assert api_client(host_of(studio_a), key).get("/api/users/me/").status_code == 401
    assert api_client(host_of(studio_a), key).get("/api/staff/").status_code == 401


def test_a_studio_token_means_nothing_on_the_platform_api(owner_a, studio_a):
    key = token_of(owner_a, studio_a)

    assert api_client("localhost", key).get("/api/platform/studios/").status_code == 401
    assert api_client("localhost", key).get("/api/users/me/").status_code == 401
