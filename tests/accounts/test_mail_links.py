"""Links in mails lead to the studio's primary domain with the configured scheme and port, whatever Host header
(port, other domain of the studio) the request that caused the mail came with."""

import re

import pytest
from django.core import mail
from django.test import Client
from django_tenants.utils import schema_context, tenant_context

from tenants.models import Domain
from tests.conftest import PLATFORM_HOST, api_client, host_of

pytestmark = pytest.mark.django_db
LINK = re.compile(r"(?P<scheme>https?)://(?P<host>[^/\s]+)(?P<path>/\S*)")


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_SCHEME = "https"
    settings.SITE_PORT = "8443"


@pytest.fixture
def odd_host_a(studio_a) -> str:
    """Another domain of studio A, with a port the attacker picked."""
    with schema_context("public"):
        Domain.objects.create(domain="www.alpha.localhost", tenant=studio_a, is_primary=False)
    return "www.alpha.localhost:6666"


def _only_link() -> re.Match:
    assert len(mail.outbox) == 1
    links = LINK.findall(mail.outbox[0].body)
    assert len(links) == 1, mail.outbox[0].body
    return LINK.search(mail.outbox[0].body)


def test_an_api_reset_link_is_on_the_primary_domain(odd_host_a, client_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(odd_host_a).post("/api/users/password-reset/", {"email": client_a.email}, format="json")

    assert response.status_code == 202
    link = _only_link()
    assert (link["scheme"], link["host"]) == ("https", "alpha.localhost:8443")
    assert link["path"].startswith("/accounts/password/reset/key/")


def test_a_web_reset_link_is_on_the_primary_domain(odd_host_a, client_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = Client(HTTP_HOST=odd_host_a).post("/accounts/password/reset/", {"email": client_a.email})

    assert response.status_code == 302
    link = _only_link()
    assert link["host"] == "alpha.localhost:8443"
    assert "TrainerHub" not in mail.outbox[0].body


def test_a_web_reset_for_an_unknown_address_sends_nothing(studio_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = Client(HTTP_HOST=host_of(studio_a)).post(
            "/accounts/password/reset/", {"email": "stranger@elsewhere.test"}
        )

    assert response.status_code == 302
    assert mail.outbox == []


def test_a_reset_does_its_lookup_and_rendering_after_the_answer(anon_a, client_a, django_capture_on_commit_callbacks):
    # Known and unknown addresses leave the request with the same work queued, and nothing rendered yet.
    with django_capture_on_commit_callbacks() as known:
        anon_a.post("/api/users/password-reset/", {"email": client_a.email}, format="json")
    with django_capture_on_commit_callbacks() as unknown:
        anon_a.post("/api/users/password-reset/", {"email": "ghost@alpha.test"}, format="json")

    assert len(known) == len(unknown) == 1
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        known[0]()
        unknown[0]()
    assert [message.to for message in mail.outbox] == [[client_a.email]]


def test_the_email_confirmation_link_is_on_the_primary_domain(odd_host_a, django_capture_on_commit_callbacks):
    body = {"email": "new@client.test", "password": "Fresh-Start-2026", "first_name": "New", "last_name": "Client"}
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(odd_host_a).post("/api/users/register/", body, format="json")

    assert response.status_code == 201
    link = _only_link()
    assert link["host"] == "alpha.localhost:8443"
    assert link["path"].startswith("/accounts/confirm-email/")


def test_a_staff_invitation_link_is_on_the_primary_domain(
    odd_host_a, studio_a, owner_a, django_capture_on_commit_callbacks
):
    from tests.conftest import token_of

    client = api_client(odd_host_a, token_of(owner_a, studio_a))
    body = {"email": "coach@alpha.test", "first_name": "Coach", "last_name": "Carter", "role": "trainer"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/staff/", body, format="json")

    assert response.status_code == 201
    assert _only_link()["host"] == "alpha.localhost:8443"


def test_a_studio_created_without_owner_password_invites_its_owner_on_its_own_host(
    platform_admin, django_capture_on_commit_callbacks
):
    from tests.conftest import token_of

    client = api_client(f"{PLATFORM_HOST}:5555", token_of(platform_admin))
    body = {"name": "Delta Fitness", "slug": "delta", "owner_email": "owner@delta.test"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/platform/studios/", body, format="json")

    assert response.status_code == 201, response.content
    link = _only_link()
    assert (link["scheme"], link["host"]) == ("https", "delta.localhost:8443")
    assert mail.outbox[0].to == ["owner@delta.test"]
    assert "Delta Fitness" in mail.outbox[0].subject

    # The link opens the new studio's set-password page (its path exists in the studio's URLconf).
    page = Client(HTTP_HOST="delta.localhost").get(link["path"], follow=True)
    assert page.status_code == 200
    assert 'name="password1"' in page.content.decode()


def test_mails_sent_by_allauth_name_the_studio_not_the_request_host(
    studio_a, client_a, django_capture_on_commit_callbacks
):
    from allauth.account.models import EmailAddress

    with tenant_context(studio_a):
        EmailAddress.objects.create(user=client_a, email=client_a.email, primary=True, verified=False)
    from tests.factories import PASSWORD

    browser = Client(HTTP_HOST="alpha.localhost:7777")
    assert browser.post("/accounts/login/", {"login": client_a.email, "password": PASSWORD}).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/accounts/email/", {"action_send": "", "email": client_a.email})

    assert response.status_code == 302
    message = mail.outbox[0].body
    assert "7777" not in message
    assert "Alpha Strength" in message
    assert LINK.search(message)["host"] == "alpha.localhost:8443"


def test_the_api_schema_explains_the_reset_link(anon_a):
    schema = anon_a.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    reset = schema["paths"]["/api/users/password-reset/"]["post"]["description"]
    confirm = schema["paths"]["/api/users/password-reset/confirm/"]["post"]["description"]
    for description in (reset, confirm):
        assert "/accounts/password/reset/key/<uid>-<token>/" in description
        assert "first hyphen" in description


def test_a_platform_admin_resets_on_the_platform_host(platform_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = Client(HTTP_HOST=f"{PLATFORM_HOST}:5555").post(
            "/accounts/password/reset/", {"email": platform_admin.email}
        )

    assert response.status_code == 302
    link = _only_link()
    assert link["host"] == f"{PLATFORM_HOST}:8443"
    assert mail.outbox[0].to == [platform_admin.email]
    page = Client(HTTP_HOST=PLATFORM_HOST).get(link["path"], follow=True)
    assert 'name="password1"' in page.content.decode()


def test_a_sign_up_with_a_taken_address_mails_links_on_the_primary_domain(
    settings, client_a, django_capture_on_commit_callbacks
):
    # With mandatory verification allauth answers as if the sign-up worked (no enumeration) and mails the
    # address's holder instead: that mail's links must not come from the Host header either.
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    body = {
        "first_name": "Fresh",
        "last_name": "Start",
        "email": client_a.email,
        "password1": "Fresh-Start-2026",
        "password2": "Fresh-Start-2026",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = Client(HTTP_HOST="alpha.localhost:6666").post("/accounts/signup/", body)

    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [[client_a.email]]
    message = mail.outbox[0].body
    links = LINK.findall(message)
    assert links, message
    assert {(scheme, host) for scheme, host, _path in links} == {("https", "alpha.localhost:8443")}
    assert "6666" not in message
    assert any(path == "/accounts/password/reset/" for _scheme, _host, path in links)
