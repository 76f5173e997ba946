"""Custom domains: an owner adds one (pending, routing nowhere but answering its token at the well-known path),
the platform verifies it by fetching that token over HTTP (or a platform admin approves it, or rejects it), and
only a verified domain routes to the studio, gets a certificate (the TLS ask endpoint) and may become primary,
which mails' links then use.

The HTTP check is answered by a real local server acting as the HTTP proxy (http_proxy), so the request goes
through the same sockets and urllib code as in production; only DNS is stood in for."""

import http.server
import threading

import pytest
from django.core import mail
from django.test import Client
from django_tenants.utils import schema_context, tenant_context

from shared_apps.accounts.models import Role
from shared_apps.core.exceptions import Conflict, Forbidden, ValidationFailed
from tenants import domains
from tenants.models import Domain, StudioEvent
from tenants.tasks import domains_verify_pending
from tests.conftest import PLATFORM_HOST, host_of, make_user, totp_enable
from tests.notifications.conftest import make_booking  # noqa: F401 - the fixture, asked for by name

pytestmark = pytest.mark.django_db

CUSTOM = "book.ironstudio.com"


class FakeInternet:
    """A local HTTP proxy: urllib sends it every http:// request (the absolute URL in the request line), and it
    answers what the test put in ``answers`` (URL → status and body), 502 for anything else."""

    def __init__(self):
        self.answers: dict[str, tuple[int, str]] = {}
        self.requested: list[str] = []
        internet = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                internet.requested.append(self.path)
                status, body = internet.answers.get(self.path, (502, "no such host"))
                payload = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def serve_token_of(self, domain: Domain, *, host: str | None = None) -> None:
        """DNS now points ``host`` (default: the domain) at the platform: it answers what our app answers there."""
        path = domains.verification_path(domain)
        response = Client(HTTP_HOST=host or domain.domain).get(path)
        assert response.status_code == 200
        self.answers[f"http://{host or domain.domain}{path}"] = (200, response.content.decode())


@pytest.fixture(autouse=True)
def _any_host(settings):
    # Custom domains are any host name (production sets ALLOWED_HOSTS=*; unknown hosts get the middleware's 404).
    settings.ALLOWED_HOSTS = ["*"]


@pytest.fixture
def internet(monkeypatch):
    fake = FakeInternet()
    fake.thread.start()
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, fake.url)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def add(studio, owner, name=CUSTOM) -> Domain:
    with tenant_context(studio):
        return domains.custom_domain_add(studio=studio, domain=name, actor=owner)


def events(studio, **filters) -> list[tuple]:
    with schema_context("public"):
        return list(
            StudioEvent.objects.filter(studio=studio, **filters)
            .order_by("id")
            .values_list("action", "subject", "actor_id", "reason")
        )


# -- adding --------------------------------------------------------------------------------------------------


def test_an_added_domain_is_pending_routes_nowhere_and_answers_only_its_token(studio_a, owner_a, internet):
    domain = add(studio_a, owner_a, "Book.IronStudio.com.")
    visitor = Client(HTTP_HOST=CUSTOM)

    home = visitor.get("/")
    token_page = visitor.get(domains.verification_path(domain))
    wrong_token = visitor.get("/.well-known/trainerhub-verify/not-the-token")
    other_host = Client(HTTP_HOST="other.example.com").get(domains.verification_path(domain))

    assert (domain.domain, domain.status, domain.is_primary) == (CUSTOM, "pending", False)
    assert len(domain.verification_token) >= 32
    assert home.status_code == 404 and "There is no site at this address" in home.content.decode()
    assert token_page.status_code == 200 and token_page["Content-Type"].startswith("text/plain")
    assert token_page.content.decode() == domain.verification_token
    assert wrong_token.status_code == 404 and other_host.status_code == 404
    # The studio's own address is still its primary one.
    assert studio_a.get_primary_domain().domain == host_of(studio_a)
    assert events(studio_a)[-1][:3] == ("domain_added", CUSTOM, None)
    assert "owner@alpha.test" in events(studio_a)[-1][3]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("192.0.2.10", "An IP address can't be a studio's domain"),
        ("[2001:db8::1]", "An IP address can't be a studio's domain"),
        ("bravo.localhost", "are the platform's own"),
        ("localhost", "are the platform's own"),
        ("new.alpha.localhost", "are the platform's own"),
        ("not a domain!", "This is not a valid domain name"),
        ("-bad-.example.com", "This is not a valid domain name"),
        ("https://book.example.com/", "without https:// or a path"),
        ("intranet", "Enter a full domain name"),
        ("", "Enter a domain name"),
        ("a" * 64 + ".example.com", "This is not a valid domain name"),
    ],
)
def test_a_bad_domain_is_refused_with_a_clear_message(studio_a, owner_a, name, message):
    with pytest.raises(ValidationFailed) as refusal:
        add(studio_a, owner_a, name)

    assert message in refusal.value.fields["domain"][0]
    assert not Domain.objects.filter(tenant=studio_a).exclude(domain=host_of(studio_a)).exists()


def test_another_studios_domain_is_refused_and_so_is_one_added_twice(studio_a, studio_b, owner_a):
    with tenant_context(studio_b):
        from shared_apps.accounts.models import User

        owner_b = User.objects.get(email="owner@bravo.test")
    add(studio_b, owner_b)

    with pytest.raises(ValidationFailed) as taken:
        add(studio_a, owner_a, CUSTOM.upper())
    with pytest.raises(ValidationFailed) as twice:
        add(studio_b, owner_b)

    assert "added by another studio" in taken.value.fields["domain"][0]
    assert "already has this domain" in twice.value.fields["domain"][0]
    assert list(Domain.objects.filter(domain=CUSTOM).values_list("tenant_id", flat=True)) == [studio_b.pk]


def test_only_the_owner_adds_a_domain(studio_a, manager_a):
    with pytest.raises(Forbidden):
        add(studio_a, manager_a)
    assert not Domain.objects.filter(domain=CUSTOM).exists()


# -- verification ------------------------------------------------------------------------------------------


def test_a_domain_serving_its_token_is_verified_and_then_routes_to_the_studio(studio_a, owner_a, internet):
    domain = add(studio_a, owner_a)
    internet.serve_token_of(domain)

    verified = domains.custom_domain_verify(domain=domain)
    page = Client(HTTP_HOST=CUSTOM).get("/")

    assert internet.requested == [f"http://{CUSTOM}/.well-known/trainerhub-verify/{domain.verification_token}"]
    assert verified.status == "verified" and verified.verified_at is not None
    assert Domain.objects.get(pk=domain.pk).status == "verified"
    assert page.status_code == 200 and "Alpha Strength" in page.content.decode()
    # Uppercase and the fully qualified form are the same host.
    assert Client(HTTP_HOST="BOOK.IronStudio.COM").get("/").status_code == 200
    assert Client(HTTP_HOST=f"{CUSTOM}.").get("/").status_code == 200
    assert Client(HTTP_HOST=f"{CUSTOM}.:8000").get("/").status_code == 200
    # The platform proved it: no actor.
    assert events(studio_a, action="domain_verified") == [("domain_verified", CUSTOM, None, "")]


def test_the_www_form_of_the_domain_may_serve_the_token(studio_a, owner_a, internet):
    domain = add(studio_a, owner_a, "www.ironstudio.com")
    internet.serve_token_of(domain, host="www.ironstudio.com")

    domains.custom_domain_verify(domain=domain)

    assert domain.domain == "ironstudio.com"
    assert Client(HTTP_HOST="www.ironstudio.com").get("/").status_code == 200


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (None, "answered 502"),  # the proxy found nothing there
        ((404, "Not Found"), "answered 404"),
        ((200, "someone-elses-token"), "not with this studio's verification code"),
        ((302, ""), "answered 302"),  # a redirect is not followed
    ],
)
def test_a_domain_not_serving_its_token_stays_pending_with_the_reason(studio_a, owner_a, internet, answer, message):
    domain = add(studio_a, owner_a)
    if answer:
        internet.answers[domains.verification_url(domain)] = answer

    with pytest.raises(domains.DomainCheckFailed) as failure:
        domains.custom_domain_verify(domain=domain)

    assert message in failure.value.message
    assert Domain.objects.get(pk=domain.pk).status == "pending"
    assert Client(HTTP_HOST=CUSTOM).get("/").status_code == 404
    assert not events(studio_a, action="domain_verified")


def test_an_unreachable_domain_stays_pending_and_says_so(studio_a, owner_a, monkeypatch):
    domain = add(studio_a, owner_a)
    closed = FakeInternet()  # bound, never served, then closed: nothing listens on its port
    closed.server.server_close()
    monkeypatch.setenv("http_proxy", closed.url)
    monkeypatch.delenv("no_proxy", raising=False)

    with pytest.raises(domains.DomainCheckFailed) as failure:
        domains.custom_domain_verify(domain=domain)

    assert f"{CUSTOM} could not be reached" in failure.value.message
    assert Domain.objects.get(pk=domain.pk).status == "pending"


def test_the_periodic_task_verifies_pending_domains_that_now_serve_their_token(studio_a, owner_a, internet):
    ready = add(studio_a, owner_a)
    waiting = add(studio_a, owner_a, "waiting.ironstudio.com")
    internet.serve_token_of(ready)

    counts = domains_verify_pending.delay().get()

    assert counts == {"verified": 1, "pending": 1}
    assert Domain.objects.get(pk=ready.pk).status == "verified"
    assert Domain.objects.get(pk=waiting.pk).status == "pending"


def test_a_removed_domain_stops_routing_at_once(studio_a, owner_a, internet):
    domain = add(studio_a, owner_a)
    internet.serve_token_of(domain)
    domains.custom_domain_verify(domain=domain)
    assert Client(HTTP_HOST=CUSTOM).get("/").status_code == 200  # now cached

    with tenant_context(studio_a):
        domains.domain_remove(domain=domain, actor=owner_a)

    assert Client(HTTP_HOST=CUSTOM).get("/").status_code == 404
    assert events(studio_a)[-1][:2] == ("domain_removed", CUSTOM)


# -- the TLS ask endpoint ----------------------------------------------------------------------------------


def ask(host: str) -> int:
    return Client(HTTP_HOST=PLATFORM_HOST).get("/tls/ask", {"domain": host}).status_code


def test_a_certificate_is_allowed_only_for_verified_domains_of_active_studios(studio_a, owner_a, internet):
    domain = add(studio_a, owner_a)

    pending = ask(CUSTOM)
    internet.serve_token_of(domain)
    domains.custom_domain_verify(domain=domain)
    verified = (ask(CUSTOM), ask(CUSTOM.upper() + "."), ask(f"www.{CUSTOM}"))

    assert pending == 404
    assert verified == (200, 200, 200)
    assert ask(host_of(studio_a)) == 200 and ask(PLATFORM_HOST) == 200
    assert ask("unknown.example.com") == 404 and ask("") == 404 and ask("127.0.0.1") == 404
    assert Client(HTTP_HOST=PLATFORM_HOST).post("/tls/ask", {"domain": CUSTOM}).status_code == 405


def test_a_suspended_studios_domains_get_no_certificate(studio_a):
    from tenants.services import studio_activate, studio_suspend

    studio_suspend(studio=studio_a)
    try:
        assert ask(host_of(studio_a)) == 404
    finally:
        studio_activate(studio=studio_a)


# -- primary domain and mails --------------------------------------------------------------------------------


def test_a_verified_domain_made_primary_is_where_a_booking_mails_links_lead(studio_a, owner_a, internet, request):
    from tenant_apps.notifications.models import Notification
    from tenant_apps.notifications.services import notification_send

    domain = add(studio_a, owner_a)
    with tenant_context(studio_a), pytest.raises(Conflict):
        domains.domain_set_primary(domain=domain, actor=owner_a)  # still pending
    internet.serve_token_of(domain)
    domains.custom_domain_verify(domain=domain)

    with tenant_context(studio_a):
        domains.domain_set_primary(domain=domain, actor=owner_a)
        booking = request.getfixturevalue("make_booking")()
        row = Notification.objects.get(booking=booking, kind="booking_confirmed", recipient_email__gt="")
        assert notification_send(notification_id=row.pk, now=row.send_after) == "sent"

    [message] = mail.outbox
    assert f"http://{CUSTOM}/b/" in message.body
    assert f"{host_of(studio_a)}/" not in message.body
    assert studio_a.get_primary_domain().domain == CUSTOM
    assert Domain.objects.get(domain=host_of(studio_a)).is_primary is False
    assert events(studio_a)[-1][:2] == ("primary_domain_set", CUSTOM)

    # Removing it gives the primary role back to the studio's platform address.
    with tenant_context(studio_a):
        domains.domain_remove(domain=domain, actor=owner_a)
    assert studio_a.get_primary_domain().domain == host_of(studio_a)


def test_the_studios_platform_address_cannot_be_removed(studio_a, owner_a):
    own = Domain.objects.get(domain=host_of(studio_a))
    with tenant_context(studio_a), pytest.raises(Conflict):
        domains.domain_remove(domain=own, actor=owner_a)
    assert Domain.objects.filter(pk=own.pk).exists()


# -- the platform admins' page ---------------------------------------------------------------------------------


@pytest.fixture
def platform_browser(platform_admin) -> Client:
    browser = Client(HTTP_HOST=PLATFORM_HOST)
    with schema_context("public"):
        browser.force_login(platform_admin)
    return browser


def test_a_platform_admin_sees_pending_domains_and_approves_one(studio_a, owner_a, platform_admin, platform_browser):
    domain = add(studio_a, owner_a)

    page = platform_browser.get("/platform/domains/")
    approved = platform_browser.post(f"/platform/domains/{domain.pk}/approve/")
    again = platform_browser.post(f"/platform/domains/{domain.pk}/approve/", follow=True)

    assert page.status_code == 200
    assert CUSTOM in page.content.decode() and "Alpha Strength" in page.content.decode()
    assert approved.status_code == 302 and approved["Location"] == "/platform/domains/"
    assert Domain.objects.get(pk=domain.pk).status == "verified"
    assert Client(HTTP_HOST=CUSTOM).get("/").status_code == 200
    assert events(studio_a, action="domain_approved") == [("domain_approved", CUSTOM, platform_admin.pk, "")]
    assert "No domain is waiting for verification" in again.content.decode()


def test_a_platform_admin_rejects_a_domain_with_a_reason(studio_a, owner_a, platform_admin, platform_browser):
    domain = add(studio_a, owner_a)

    no_reason = platform_browser.post(f"/platform/domains/{domain.pk}/reject/", {f"reject-{domain.pk}-reason": " "})
    rejected = platform_browser.post(
        f"/platform/domains/{domain.pk}/reject/", {f"reject-{domain.pk}-reason": "Not the studio's domain."}
    )

    assert no_reason.status_code == 400
    assert "There is a problem" in no_reason.content.decode()
    assert "Say why, so the studio" in no_reason.content.decode()
    assert rejected.status_code == 302
    assert Domain.objects.get(pk=domain.pk).status == "rejected"
    assert Client(HTTP_HOST=CUSTOM).get(domains.verification_path(domain)).status_code == 404
    assert ask(CUSTOM) == 404
    assert events(studio_a, action="domain_rejected") == [
        ("domain_rejected", CUSTOM, platform_admin.pk, "Not the studio's domain.")
    ]


def test_the_platform_page_is_refused_to_anyone_but_a_platform_admin(studio_a, owner_a):
    domain = add(studio_a, owner_a)
    visitor = Client(HTTP_HOST=PLATFORM_HOST)
    not_admin = Client(HTTP_HOST=PLATFORM_HOST)
    someone = make_user(None, email="someone@platform.test", role=Role.CLIENT)
    with schema_context("public"):
        totp_enable(someone)  # past the two-factor rule, so this page's own refusal is what answers
    not_admin.force_login(someone)
    studio_owner = Client(HTTP_HOST=host_of(studio_a))
    with tenant_context(studio_a):
        studio_owner.force_login(owner_a)

    anonymous_page = visitor.get("/platform/domains/")
    anonymous_approve = visitor.post(f"/platform/domains/{domain.pk}/approve/")
    refused_page = not_admin.get("/platform/domains/")
    refused_approve = not_admin.post(f"/platform/domains/{domain.pk}/approve/")
    refused_reject = not_admin.post(f"/platform/domains/{domain.pk}/reject/", {f"reject-{domain.pk}-reason": "x"})
    # On a studio's host there are no platform pages at all.
    owner_approve = studio_owner.post(f"/platform/domains/{domain.pk}/approve/")

    assert anonymous_page.status_code == 302 and "/accounts/login/" in anonymous_page["Location"]
    assert anonymous_approve.status_code == 302
    assert refused_page.status_code == refused_approve.status_code == refused_reject.status_code == 403
    assert owner_approve.status_code == 404
    assert Domain.objects.get(pk=domain.pk).status == "pending"
    assert not events(studio_a, action__in=["domain_approved", "domain_rejected"])


def test_approving_a_domain_that_is_not_pending_is_not_found(studio_a, platform_browser):
    own = Domain.objects.get(domain=host_of(studio_a))
    response = platform_browser.post(f"/platform/domains/{own.pk}/approve/", follow=True)
    assert "No domain is waiting for verification under this id" in response.content.decode()
