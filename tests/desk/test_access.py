"""The desk is for the studio's staff: a visitor is sent to sign in, a client gets a 403 page, staff of another
studio are strangers here, and staff land on the desk after signing in."""

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

pytestmark = pytest.mark.django_db


def _browser(studio, user=None) -> Client:
    browser = Client(HTTP_HOST=f"{studio.slug}.localhost")
    if user is not None:
        with tenant_context(studio):
            browser.force_login(user)
    return browser


@pytest.mark.parametrize("who", ["owner_a", "manager_a", "trainer_a"])
def test_staff_open_the_desk(studio_a, who, request):
    response = _browser(studio_a, request.getfixturevalue(who)).get("/desk/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/desk/today/"
    assert "<h1>Today</h1>" in response.content.decode()


def test_a_visitor_is_sent_to_sign_in(studio_a):
    response = _browser(studio_a).get("/desk/today/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/desk/today/")


def test_a_client_gets_the_403_page_not_the_desk(studio_a, client_a):
    response = _browser(studio_a, client_a).get("/desk/today/")
    assert response.status_code == 403
    assert "for its staff" in response.content.decode()


def test_another_studios_owner_is_a_stranger_here(studio_a, studio_b):
    with tenant_context(studio_b):
        from shared_apps.accounts.models import User

        owner_b = User.objects.get(email="owner@bravo.test")
    browser = _browser(studio_b, owner_b)
    browser.defaults["HTTP_HOST"] = f"{studio_a.slug}.localhost"  # the same cookie, on studio A's host
    response = browser.get("/desk/today/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_staff_land_on_the_desk_after_signing_in_and_clients_do_not(studio_a, owner_a, client_a):
    from tests.factories import PASSWORD

    for user, landing in ((owner_a, "/desk/"), (client_a, "/desk/")):
        browser = _browser(studio_a)
        response = browser.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.content.decode()[:300]
        if user is owner_a:
            assert response["Location"] == landing
        else:
            assert not response["Location"].startswith(landing)


def test_the_booking_site_links_staff_to_the_desk(studio_a, owner_a, client_a):
    assert 'href="/desk/"' in _browser(studio_a, owner_a).get("/").content.decode()
    assert 'href="/desk/"' not in _browser(studio_a, client_a).get("/").content.decode()
