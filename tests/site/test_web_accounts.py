"""allauth's web pages on a studio host: themed, white-labelled, and accounts land in the studio's schema."""

import re

import pytest
from django.core import mail
from django.test import Client
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User

pytestmark = pytest.mark.django_db


def test_signup_page_creates_a_client_and_mails_a_verification_link_in_the_studios_name(
    studio_b, django_capture_on_commit_callbacks
):
    browser = Client(HTTP_HOST="bravo.localhost")

    page = browser.get("/accounts/signup/")
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            "/accounts/signup/",
            {"email": "Web.Client@example.com", "password1": "Downward-Dog-88", "password2": "Downward-Dog-88"},
        )

    assert "theme-midnight" in page.content.decode() and "Bravo Yoga" in page.content.decode()
    assert response.status_code == 302
    with tenant_context(studio_b):
        user = User.objects.get(email="web.client@example.com")
        assert user.role == Role.CLIENT
    message = mail.outbox[-1]
    assert message.to == ["web.client@example.com"]
    assert "Bravo Yoga" in message.subject and "Bravo Yoga" in message.from_email
    assert "TrainerHub" not in message.subject + message.body + message.from_email
    link = re.search(r"http://bravo\.localhost(/accounts/confirm-email/\S+/)", message.body)
    assert link

    confirm = browser.post(link.group(1))
    assert confirm.status_code == 302
    with tenant_context(studio_b):
        assert user.emailaddress_set.get().verified


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_account_pages_carry_the_studios_name_and_never_the_platforms(path, studio_a):
    page = Client(HTTP_HOST="alpha.localhost").get(path).content.decode()

    assert "Alpha Strength" in page
    assert "TrainerHub" not in page


def test_web_login_and_logout(owner_a):
    from tests.factories import PASSWORD

    browser = Client(HTTP_HOST="alpha.localhost")

    login = browser.post("/accounts/login/", {"login": "OWNER@alpha.test", "password": PASSWORD})
    home = browser.get("/")
    logout = browser.post("/accounts/logout/")

    assert login.status_code == 302
    assert "Log out" in home.content.decode()
    assert logout.status_code == 302
    assert "Log in" in browser.get("/").content.decode()


def test_nobody_signs_up_on_the_platform_host():
    response = Client(HTTP_HOST="localhost").get("/accounts/signup/")

    assert response.status_code == 404
