"""allauth's web pages on a studio host: themed, white-labelled, and accounts land in the studio's schema."""

import re

import pytest
from django.core import mail
from django.test import Client
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User
from tenant_apps.clients.models import Client as ClientRecord

pytestmark = pytest.mark.django_db


def test_signup_page_creates_a_client_and_mails_a_verification_link_in_the_studios_name(
    studio_b, django_capture_on_commit_callbacks
):
    browser = Client(HTTP_HOST="bravo.localhost")

    page = browser.get("/accounts/signup/")
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            "/accounts/signup/",
            {
                "first_name": "Web",
                "last_name": "Client",
                "email": "Web.Client@example.com",
                "password1": "Downward-Dog-88",
                "password2": "Downward-Dog-88",
            },
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


def _sign_up(host: str, **fields):
    browser = Client(HTTP_HOST=host)
    data = {"email": "lena@example.com", "password1": "Downward-Dog-88", "password2": "Downward-Dog-88"} | fields
    return browser, browser.post("/accounts/signup/", data, follow=True)


def test_signup_asks_for_names_and_the_client_book_shows_them_with_the_phone_in_the_studios_country(studio_a):
    form = Client(HTTP_HOST="alpha.localhost").get("/accounts/signup/").content.decode()

    _, response = _sign_up("alpha.localhost", first_name="Lena", last_name="Fischer", phone="07911 123456")

    for label in ("First name", "Last name", "Phone (optional)"):
        assert label in form
    assert 'autocomplete="given-name"' in form and 'autocomplete="family-name"' in form
    with tenant_context(studio_a):
        user = User.objects.get(email="lena@example.com")
        record = ClientRecord.objects.get(user=user)
    assert (user.first_name, user.last_name, str(user.phone), user.role) == (
        "Lena",
        "Fischer",
        "+447911123456",
        "client",
    )
    assert (record.first_name, record.last_name, str(record.phone)) == ("Lena", "Fischer", "+447911123456")
    # Lands on the studio's home page with a welcome, not on a dead end.
    assert response.redirect_chain[-1][0] == "/"
    page = response.content.decode()
    assert "Welcome, Lena!" in page and "Book a session" in page and "Welcome back" not in page
    assert "Lena Fischer" in page  # the header names the signed-in client


def test_signup_without_a_phone_is_fine_and_a_bad_phone_or_missing_names_are_refused_on_the_form(studio_a):
    _, missing = _sign_up("alpha.localhost", first_name="  ", last_name="")
    _, bad_phone = _sign_up("alpha.localhost", first_name="Lena", last_name="Fischer", phone="12")
    with tenant_context(studio_a):
        assert not User.objects.filter(email="lena@example.com").exists()

    _, fine = _sign_up("alpha.localhost", first_name="Lena", last_name="Fischer")
    assert fine.redirect_chain[-1][0] == "/"

    assert missing.status_code == 200 and missing.content.decode().count("This field is required.") == 2
    assert "Enter a valid phone number: a GB number" in bad_phone.content.decode()
    with tenant_context(studio_a):
        user = User.objects.get(email="lena@example.com")
        assert str(user.phone) == "" and user.get_full_name() == "Lena Fischer"


def test_a_number_with_its_country_code_is_read_as_it_says_in_any_studio(studio_a):
    _sign_up("alpha.localhost", first_name="Ana", last_name="Silva", phone="+1 212 555 0123")

    with tenant_context(studio_a):
        assert str(User.objects.get(email="lena@example.com").phone) == "+12125550123"


def test_a_clients_login_lands_on_the_home_page_with_a_message(client_a):
    """(Staff land on the desk: tests/desk/test_access.py.)"""
    from tests.factories import PASSWORD

    response = Client(HTTP_HOST="alpha.localhost").post(
        "/accounts/login/", {"login": client_a.email, "password": PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/"
    page = response.content.decode()
    assert 'class="messages"' in page and "Book a session" in page and "Welcome back" not in page
