import re

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from tests.conftest import api_client

pytestmark = pytest.mark.django_db
RESET = "/api/users/password-reset/"
CONFIRM = "/api/users/password-reset/confirm/"
LINK = re.compile(r"http://(?P<host>[\w.-]+)/accounts/password/reset/key/(?P<uid>[0-9a-z]+)-(?P<token>[^/\s]+)/")


def _request_link(client, email: str, capture) -> re.Match:
    with capture(execute=True):
        response = client.post(RESET, {"email": email}, format="json")
    assert response.status_code == 202
    assert len(mail.outbox) == 1
    return LINK.search(mail.outbox[0].body)


def test_reset_mails_a_link_in_the_studios_name_and_the_new_password_works(
    anon_a, client_a, studio_a, django_capture_on_commit_callbacks
):
    link = _request_link(anon_a, "CLIENT@alpha.test", django_capture_on_commit_callbacks)
    message = mail.outbox[0]
    assert link and link["host"] == "alpha.localhost"
    assert message.to == ["client@alpha.test"]
    assert studio_a.name in message.subject and studio_a.name in message.from_email
    assert "TrainerHub" not in message.subject + message.body + message.from_email

    response = anon_a.post(
        CONFIRM, {"uid": link["uid"], "token": link["token"], "new_password": "Fresh-Start-2026"}, format="json"
    )

    assert response.status_code == 204
    login = anon_a.post("/api/users/login/", {"email": "client@alpha.test", "password": "Fresh-Start-2026"})
    assert login.status_code == 200
    # A link works once: the password it was made for has changed.
    again = anon_a.post(
        CONFIRM, {"uid": link["uid"], "token": link["token"], "new_password": "Other-Start-2026"}, format="json"
    )
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_token"


def test_an_unknown_email_gets_the_same_answer_and_no_mail(anon_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = anon_a.post(RESET, {"email": "ghost@alpha.test"}, format="json")

    assert response.status_code == 202
    assert response.json()["detail"].startswith("If an account exists")
    assert mail.outbox == []


def test_the_link_opens_the_studios_own_set_password_page(anon_a, client_a, django_capture_on_commit_callbacks):
    link = _request_link(anon_a, client_a.email, django_capture_on_commit_callbacks)
    browser = api_client("alpha.localhost")

    page = browser.get(link.group(0), follow=True)

    assert page.status_code == 200
    assert "Alpha Strength" in page.content.decode()
    assert 'name="password1"' in page.content.decode()


@pytest.mark.parametrize(("uid", "token"), [("zz", "bad-token"), ("", "x"), ("!!", "x"), ("1", "x" * 300)])
def test_bad_links_are_refused(anon_a, uid, token):
    response = anon_a.post(CONFIRM, {"uid": uid, "token": token, "new_password": "Fresh-Start-2026"}, format="json")

    assert response.status_code == 400


def test_a_weak_new_password_is_refused_and_the_old_one_stays(
    anon_a, client_a, studio_a, django_capture_on_commit_callbacks
):
    link = _request_link(anon_a, client_a.email, django_capture_on_commit_callbacks)

    response = anon_a.post(CONFIRM, {"uid": link["uid"], "token": link["token"], "new_password": "123"}, format="json")

    assert response.status_code == 400
    assert "new_password" in response.json()["fields"]
    with tenant_context(studio_a):
        client_a.refresh_from_db()
        from tests.factories import PASSWORD

        assert client_a.check_password(PASSWORD)


def test_a_link_from_one_studio_is_worthless_on_another(
    anon_a, anon_b, studio_a, studio_b, django_capture_on_commit_callbacks
):
    from tests.conftest import make_user

    # The same id and email in both studios: only the schema tells the two accounts apart.
    client_a = make_user(studio_a, pk=7001, email="twin@example.com")
    client_b = make_user(studio_b, pk=7001, email="twin@example.com")
    link = _request_link(anon_a, client_a.email, django_capture_on_commit_callbacks)

    response = anon_b.post(
        CONFIRM, {"uid": link["uid"], "token": link["token"], "new_password": "Fresh-Start-2026"}, format="json"
    )

    assert response.status_code == 400
    assert (
        anon_b.post("/api/users/login/", {"email": client_b.email, "password": "Fresh-Start-2026"}).status_code == 400
    )


def test_a_reset_on_the_web_page_also_ends_the_api_token(
    anon_a, client_a, studio_a, django_capture_on_commit_callbacks
):
    from rest_framework.authtoken.models import Token

    from tests.conftest import token_of

    key = token_of(client_a, studio_a)
    link = _request_link(anon_a, client_a.email, django_capture_on_commit_callbacks)
    browser = api_client("alpha.localhost")
    form = browser.get(link.group(0), follow=True)

    done = browser.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link.group(0),
        {"password1": "Fresh-Start-2026", "password2": "Fresh-Start-2026"},
        format="multipart",
    )

    assert done.status_code == 302
    with tenant_context(studio_a):
        client_a.refresh_from_db()
        assert client_a.check_password("Fresh-Start-2026")
        assert not Token.objects.filter(key=key).exists()
    assert api_client("alpha.localhost", key).get("/api/users/me/").status_code == 401
