"""Custom domains: an owner adds one (pending, routing nowhere but answering its token at the well-known path),
the platform verifies it when the domain's DNS names the studio's own platform host (a CNAME) and the domain
answers its token over HTTP (or a platform admin approves it, or rejects it), and only a verified domain routes
to the studio, gets a certificate (the TLS ask endpoint) and may become primary, which mails' links then use.

The HTTP check is answered by a real local server (the check connects to the address DNS gave, on
tenants.domains.VERIFY_PORT, which the tests point at it), so the request goes through the same sockets and
parsing as in production; only DNS is stood in for (socket.gethostbyname_ex, as tenants.domains calls it)."""

import http.server
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from shared_apps.accounts.models import Role
from shared_apps.core.exceptions import ApplicationError, Conflict, Forbidden, ValidationFailed
from tenants import domains
from tenants.models import Domain, StudioEvent
from tenants.tasks import domains_verify_pending
from tests.conftest import PLATFORM_HOST, host_of, make_user, totp_enable
from tests.notifications.conftest import make_booking  # noqa: F401 - the fixture, asked for by name

pytestmark = pytest.mark.django_db

CUSTOM = "book.ironstudio.com"


class FakeInternet:
    """DNS (name → canonical name, aliases, addresses) and a local HTTP server standing for every address: it
    answers what the test put in ``answers`` ((Host header, path) → status and body, or raw bytes to send as
    they are), 502 for anything else."""

    def __init__(self):
        self.answers: dict[tuple[str, str], tuple[int, str] | bytes] = {}
        self.requested: list[tuple[str, str]] = []
        self.dns: dict[str, tuple[str, list[str], list[str]]] = {}
        internet = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                key = (self.headers.get("Host", ""), self.path)
                internet.requested.append(key)
                answer = internet.answers.get(key, (502, "no such host"))
                if isinstance(answer, bytes):
                    self.wfile.write(answer)
                    return
                status, body = answer
                payload = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def resolve(self, name: str):
        if name not in self.dns:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.dns[name]

    def point(self, name: str, *, to: str, addresses: tuple[str, ...] = ("127.0.0.1",)) -> None:
        """A CNAME record: ``name`` → ``to`` (a studio's platform host), which has ``addresses``."""
        self.dns[name] = (to, [name], list(addresses))

    def serve_token_of(self, domain: Domain, *, cname: str | None = None) -> None:
        """DNS now points the domain (by a CNAME to ``cname``, default its own studio's platform host) at the
        platform: it answers what our app answers there."""
        self.point(domain.domain, to=cname or host_of(domain.tenant))
        path = domains.verification_path(domain)
        response = Client(HTTP_HOST=domain.domain).get(path)
        assert response.status_code == 200
        self.answers[(domain.domain, path)] = (200, response.content.decode())


@pytest.fixture(autouse=True)
def _any_host(settings):
    # Custom domains are any host name (production sets ALLOWED_HOSTS=*; unknown hosts get the middleware's 404).
    settings.ALLOWED_HOSTS = ["*"]


@pytest.fixture
def internet(monkeypatch):
    fake = FakeInternet()
    fake.thread.start()
    monkeypatch.setattr(domains.socket, "gethostbyname_ex", fake.resolve)
    monkeypatch.setattr(domains, "VERIFY_PORT", fake.port)
    # No proxy is used: one set in the environment leads nowhere.
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def owner_b(studio_b):
    with tenant_context(studio_b):
        from shared_apps.accounts.models import User

        return User.objects.get(email="owner@bravo.test")


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
        ("www.com", "Enter a full domain name"),
        ("www.co.uk", "Enter a full domain name"),
        ("co.uk", "Enter a full domain name"),
        ("www.localhost", "are the platform's own"),
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

    # Asked of the address DNS gave, with the domain as the Host (no proxy: the environment's leads nowhere).
    assert internet.requested == [(CUSTOM, f"/.well-known/trainerhub-verify/{domain.verification_token}")]
    assert verified.status == "verified" and verified.verified_at is not None
    assert Domain.objects.get(pk=domain.pk).status == "verified"
    assert page.status_code == 200 and "Alpha Strength" in page.content.decode()
    # Uppercase and the fully qualified form are the same host.
    assert Client(HTTP_HOST="BOOK.IronStudio.COM").get("/").status_code == 200
    assert Client(HTTP_HOST=f"{CUSTOM}.").get("/").status_code == 200
    assert Client(HTTP_HOST=f"{CUSTOM}.:8000").get("/").status_code == 200
    # The platform proved it: no actor.
    assert events(studio_a, action="domain_verified") == [("domain_verified", CUSTOM, None, "")]


def test_a_cname_through_the_studios_host_to_a_load_balancer_is_enough(studio_a, owner_a, internet):
    domain = add(studio_a, owner_a)
    internet.serve_token_of(domain)
    # book.ironstudio.com → alpha.localhost → lb.localhost (the studio's host is then an alias).
    internet.dns[CUSTOM] = ("lb.localhost", [CUSTOM, "alpha.localhost"], ["127.0.0.1"])

    assert domains.custom_domain_verify(domain=domain).status == "verified"


def test_another_studios_claim_is_not_verified_when_the_dns_names_the_real_owners_studio(
    studio_a, studio_b, owner_a, owner_b, internet
):
    # Studio B claims the name first; its real owner, studio A, is refused and told who resolves a dispute.
    claim_b = add(studio_b, owner_b)
    with pytest.raises(ValidationFailed) as refused:
        add(studio_a, owner_a)
    message = refused.value.fields["domain"][0]
    assert "a platform admin can resolve a dispute" in message and "point it at the platform" not in message

    # A points the name at its own studio's host: the platform now answers B's pending token there, but the
    # CNAME names A's studio, so B's claim stays pending.
    internet.serve_token_of(claim_b, cname=host_of(studio_a))
    with pytest.raises(domains.DomainCheckFailed) as failure:
        domains.custom_domain_verify(domain=claim_b)
    assert "does not point to bravo.localhost" in failure.value.message
    assert Domain.objects.get(pk=claim_b.pk).status == "pending"
    assert not events(studio_b, action="domain_verified")
    assert Client(HTTP_HOST=CUSTOM).get("/").status_code == 404

    # B's claim lapses; A adds the name (B's row goes, in B's log) and A's own claim is verified.
    Domain.objects.filter(pk=claim_b.pk).update(created=timezone.now() - timedelta(days=domains.PENDING_CLAIM_DAYS + 1))
    claim_a = add(studio_a, owner_a)
    internet.serve_token_of(claim_a)
    domains.custom_domain_verify(domain=claim_a)

    assert list(Domain.objects.filter(domain=CUSTOM).values_list("tenant_id", "status")) == [(studio_a.pk, "verified")]
    assert events(studio_b)[-1][:2] == ("domain_removed", CUSTOM)
    assert "Not verified within 7 days" in events(studio_b)[-1][3]
    assert "Alpha Strength" in Client(HTTP_HOST=CUSTOM).get("/").content.decode()


def test_a_lapsed_claim_whose_dns_names_its_studio_still_blocks_the_name(
    studio_a, studio_b, owner_a, owner_b, internet
):
    # A, the real owner, added the name and pointed it at its studio, but the claim was never verified in time.
    claim_a = add(studio_a, owner_a)
    internet.point(CUSTOM, to=host_of(studio_a))
    Domain.objects.filter(pk=claim_a.pk).update(created=timezone.now() - timedelta(days=domains.PENDING_CLAIM_DAYS + 1))

    # The lapse doesn't free a name whose DNS is right: B is refused, A's claim stays.
    with pytest.raises(ValidationFailed) as refused:
        add(studio_b, owner_b)

    assert "added by another studio" in refused.value.fields["domain"][0]
    assert list(Domain.objects.filter(domain=CUSTOM).values_list("tenant_id", "status")) == [(studio_a.pk, "pending")]


def test_a_lapsed_claim_lets_no_third_party_verify_the_name(studio_a, studio_b, owner_a, owner_b, internet):
    # A added the name and never pointed it anywhere; its claim lapsed.
    claim_a = add(studio_a, owner_a)
    Domain.objects.filter(pk=claim_a.pk).update(created=timezone.now() - timedelta(days=domains.PENDING_CLAIM_DAYS + 1))

    # B may now add it, and the platform serves B's token, but the DNS (set up since) names A's studio.
    claim_b = add(studio_b, owner_b)
    internet.serve_token_of(claim_b, cname=host_of(studio_a))
    with pytest.raises(domains.DomainCheckFailed):
        domains.custom_domain_verify(domain=claim_b)
    counts = domains.pending_domains_verify()

    assert counts["verified"] == 0
    assert Domain.objects.get(pk=claim_b.pk).status == "pending"
    assert Client(HTTP_HOST=CUSTOM).get("/").status_code == 404


def test_a_chain_that_also_names_another_studios_host_proves_nothing(studio_a, studio_b, owner_b, internet):
    """A platform whose wildcard points studios' hosts through one name (lb.<platform>): were a studio to have
    that name as its slug, every domain pointed at any studio would pass through its host. Here studio A plays
    that name: B's claim on a name whose chain runs B's host → A's host is not verified."""
    claim_b = add(studio_b, owner_b)
    internet.serve_token_of(claim_b)
    internet.dns[CUSTOM] = (host_of(studio_a), [CUSTOM, host_of(studio_b)], ["127.0.0.1"])

    with pytest.raises(domains.DomainCheckFailed):
        domains.custom_domain_verify(domain=claim_b)
    assert Domain.objects.get(pk=claim_b.pk).status == "pending"


def test_load_balancer_names_are_not_studio_slugs():
    from tenants.models import validate_slug

    for slug in ("lb", "edge", "ingress", "proxy", "cdn", "origin", "app"):
        with pytest.raises(ValidationError):
            validate_slug(slug)


def test_the_token_is_answered_over_plain_http_even_where_everything_else_goes_to_https(studio_a, owner_a, settings):
    """Production redirects HTTP to HTTPS; a pending domain has no certificate yet, so its proof is exempt."""
    domain = add(studio_a, owner_a)
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    visitor = Client(HTTP_HOST=CUSTOM, HTTP_X_FORWARDED_PROTO="http")

    proof = visitor.get(domains.verification_path(domain))
    elsewhere = Client(HTTP_HOST=host_of(studio_a), HTTP_X_FORWARDED_PROTO="http").get("/book/")

    assert proof.status_code == 200 and proof.content.decode() == domain.verification_token
    assert elsewhere.status_code == 301 and elsewhere["Location"].startswith("https://")


def test_a_claim_on_a_lapsed_name_and_its_claimant_removing_it_at_once_both_finish(
    studio_a, studio_b, owner_a, owner_b, internet
):
    """The claimant's removal locks its studio, then the domain; the new claim locks both studios by id, then the
    domain: one waits for the other, neither deadlocks (each studio's id order is the same for both)."""
    from tests.conftest import run_committed, run_in_threads

    def lapsed_claim_of_b():
        claim = add(studio_b, owner_b)
        old = timezone.now() - timedelta(days=domains.PENDING_CLAIM_DAYS + 1)
        Domain.objects.filter(pk=claim.pk).update(created=old)
        return claim

    try:
        for _round in range(4):
            claim_b = run_committed(lapsed_claim_of_b)

            def act(index, claim_b=claim_b):
                if index == 0:
                    with tenant_context(studio_b):
                        domains.domain_remove(domain=claim_b, actor=owner_b)
                    return "removed"
                return add(studio_a, owner_a).tenant_id

            outcomes = run_in_threads(2, act)
            # The removal may find the claim already gone (NotFound): a refusal, not a deadlock or a 500.
            errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
            assert all(isinstance(error, ApplicationError) for error in errors), outcomes
            assert outcomes[1] == studio_a.pk, outcomes
            run_committed(lambda: Domain.objects.filter(domain=CUSTOM).delete())
    finally:
        run_committed(lambda: Domain.objects.filter(domain=CUSTOM).delete())
        run_committed(lambda: StudioEvent.objects.filter(subject=CUSTOM).delete())


def test_a_rejected_claim_no_longer_blocks_the_name(studio_a, studio_b, owner_a, owner_b, platform_admin, internet):
    claim_b = add(studio_b, owner_b)
    domains.domain_reject(domain=claim_b, actor=platform_admin, reason="Not Bravo's domain.")

    claim_a = add(studio_a, owner_a)
    internet.serve_token_of(claim_a)
    domains.custom_domain_verify(domain=claim_a)

    assert not Domain.objects.filter(pk=claim_b.pk).exists()
    assert list(Domain.objects.filter(domain=CUSTOM).values_list("tenant_id", "status")) == [(studio_a.pk, "verified")]
    assert events(studio_b)[-1][:2] == ("domain_removed", CUSTOM)
    assert "Rejected" in events(studio_b)[-1][3]


def test_a_domain_without_dns_stays_pending_and_says_so(studio_a, owner_a, internet):
    domain = add(studio_a, owner_a)

    with pytest.raises(domains.DomainCheckFailed) as failure:
        domains.custom_domain_verify(domain=domain)

    assert "has no DNS record yet" in failure.value.message and "alpha.localhost" in failure.value.message
    assert internet.requested == []
    assert Domain.objects.get(pk=domain.pk).status == "pending"


def test_only_the_exact_stored_name_is_checked_not_its_www_form(studio_a, owner_a, internet):
    domain = add(studio_a, owner_a, "www.ironstudio.com")
    path = domains.verification_path(domain)
    internet.point("ironstudio.com", to=host_of(studio_a))
    internet.point("www.ironstudio.com", to=host_of(studio_a))
    internet.answers[("www.ironstudio.com", path)] = (200, domain.verification_token)

    with pytest.raises(domains.DomainCheckFailed):
        domains.custom_domain_verify(domain=domain)

    assert domain.domain == "ironstudio.com"
    assert internet.requested == [("ironstudio.com", path)]
    assert Domain.objects.get(pk=domain.pk).status == "pending"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (None, "answered 502"),  # nothing there
        ((404, "Not Found"), "answered 404"),
        ((200, "someone-elses-token"), "not with this studio's verification code"),
        ((302, ""), "answered 302"),  # a redirect is not followed
        (b"HELLO\r\n\r\n", "not an HTTP answer: BadStatusLine"),  # not HTTP at all
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000 + b"\r\n\r\n", "not an HTTP answer"),  # endless headers
    ],
)
def test_a_domain_not_serving_its_token_stays_pending_with_the_reason(studio_a, owner_a, internet, answer, message):
    domain = add(studio_a, owner_a)
    internet.point(CUSTOM, to=host_of(studio_a))
    if answer:
        internet.answers[(CUSTOM, domains.verification_path(domain))] = answer

    with pytest.raises(domains.DomainCheckFailed) as failure:
        domains.custom_domain_verify(domain=domain)

    assert message in failure.value.message
    assert Domain.objects.get(pk=domain.pk).status == "pending"
    assert Client(HTTP_HOST=CUSTOM).get("/").status_code == 404
    assert not events(studio_a, action="domain_verified")


def test_an_unreachable_domain_stays_pending_and_says_so(studio_a, owner_a, internet, monkeypatch):
    domain = add(studio_a, owner_a)
    internet.point(CUSTOM, to=host_of(studio_a))
    closed = FakeInternet()  # bound, never served, then closed: nothing listens on its port
    closed.server.server_close()
    monkeypatch.setattr(domains, "VERIFY_PORT", closed.port)

    with pytest.raises(domains.DomainCheckFailed) as failure:
        domains.custom_domain_verify(domain=domain)

    assert f"{CUSTOM} could not be reached" in failure.value.message
    assert Domain.objects.get(pk=domain.pk).status == "pending"


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "169.254.169.254", "100.64.0.1", "224.0.0.1", "240.0.0.1"]
)
def test_a_domain_resolving_to_a_private_address_is_never_fetched(studio_a, owner_a, internet, settings, address):
    settings.CUSTOM_DOMAIN_CHECK_PRIVATE_ADDRESSES = False
    domain = add(studio_a, owner_a)
    internet.serve_token_of(domain)
    internet.point(CUSTOM, to=host_of(studio_a), addresses=(address,))

    with pytest.raises(domains.DomainCheckFailed) as failure:
        domains.custom_domain_verify(domain=domain)

    assert "not a public one" in failure.value.message
    assert internet.requested == []
    assert Domain.objects.get(pk=domain.pk).status == "pending"


def test_a_dns_lookup_that_hangs_is_given_up_on(studio_a, owner_a, monkeypatch):
    domain = add(studio_a, owner_a)
    released = threading.Event()

    def hanging_resolver(name):
        released.wait(5)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(domains.socket, "gethostbyname_ex", hanging_resolver)
    monkeypatch.setattr(domains, "DNS_SECONDS", 0.3)
    started = time.monotonic()
    try:
        with pytest.raises(domains.DomainCheckFailed) as failure:
            domains.custom_domain_verify(domain=domain)
    finally:
        released.set()

    assert time.monotonic() - started < 2
    assert "has no DNS record yet" in failure.value.message
    assert Domain.objects.get(pk=domain.pk).status == "pending"


def test_a_host_that_trickles_its_answer_is_cut_off_at_the_total_deadline(studio_a, owner_a, monkeypatch):
    """Each byte comes well within any per-read timeout; the whole answer would take far longer than the
    deadline, which covers connecting, the headers and the body together."""
    domain = add(studio_a, owner_a)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle():
        connection_, _ = listener.accept()
        with connection_:
            connection_.recv(4096)
            for byte in b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n" + b"X: y\r\n" * 200:
                if stop.is_set():
                    return
                try:
                    connection_.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.02)

    server = threading.Thread(target=trickle, daemon=True)
    server.start()
    monkeypatch.setattr(domains.socket, "gethostbyname_ex", lambda name: (host_of(studio_a), [name], ["127.0.0.1"]))
    monkeypatch.setattr(domains, "VERIFY_PORT", listener.getsockname()[1])
    monkeypatch.setattr(domains, "VERIFY_DEADLINE_SECONDS", 1)

    started = time.monotonic()
    with pytest.raises(domains.DomainCheckFailed) as failure:
        domains.custom_domain_verify(domain=domain)
    elapsed = time.monotonic() - started
    stop.set()
    listener.close()

    assert "no answer in time" in failure.value.message
    assert elapsed < 3
    assert Domain.objects.get(pk=domain.pk).status == "pending"


def test_check_now_runs_at_most_once_a_minute_per_domain(studio_a, owner_a, internet):
    domain = add(studio_a, owner_a)
    other = add(studio_a, owner_a, "other.ironstudio.com")

    with tenant_context(studio_a), pytest.raises(domains.DomainCheckFailed):
        domains.custom_domain_verify(domain=domain, actor=owner_a)
    internet.serve_token_of(domain)
    with tenant_context(studio_a):
        with pytest.raises(domains.DomainCheckTooSoon) as too_soon:
            domains.custom_domain_verify(domain=domain, actor=owner_a)
        # Another domain has its own minute.
        with pytest.raises(domains.DomainCheckFailed):
            domains.custom_domain_verify(domain=other, actor=owner_a)

    assert "try again in" in too_soon.value.message and "second" in too_soon.value.message
    assert Domain.objects.get(pk=domain.pk).status == "pending"
    # The periodic task is not a person pressing the button: it checks at once.
    assert domains.custom_domain_verify(domain=domain).status == "verified"


def test_the_periodic_task_verifies_pending_domains_that_now_serve_their_token(studio_a, owner_a, internet):
    ready = add(studio_a, owner_a)
    waiting = add(studio_a, owner_a, "waiting.ironstudio.com")
    internet.serve_token_of(ready)

    counts = domains_verify_pending.delay().get()

    assert counts == {"verified": 1, "pending": 1, "failed": 0}
    assert Domain.objects.get(pk=ready.pk).status == "verified"
    assert Domain.objects.get(pk=waiting.pk).status == "pending"


def test_the_periodic_task_checks_each_domain_on_its_own(studio_a, owner_a, internet, monkeypatch, caplog):
    broken = add(studio_a, owner_a, "broken.ironstudio.com")
    garbled = add(studio_a, owner_a, "garbled.ironstudio.com")
    gone = add(studio_a, owner_a, "gone.ironstudio.com")
    ready = add(studio_a, owner_a)
    internet.serve_token_of(ready)
    internet.point(garbled.domain, to=host_of(studio_a))
    internet.answers[(garbled.domain, domains.verification_path(garbled))] = b"HELLO\r\n\r\n"
    real_verify = domains.custom_domain_verify

    def verify(*, domain, actor=None):
        if domain.pk == broken.pk:
            # Meanwhile another domain is removed, and this one fails in a way no one foresaw.
            Domain.objects.filter(pk=gone.pk).delete()
            raise RuntimeError("something unforeseen")
        return real_verify(domain=domain, actor=actor)

    monkeypatch.setattr(domains, "custom_domain_verify", verify)
    counts = domains.pending_domains_verify()

    assert counts == {"verified": 1, "pending": 1, "failed": 1}
    assert Domain.objects.get(pk=ready.pk).status == "verified"
    assert Domain.objects.get(pk=garbled.pk).status == "pending"
    assert "broken.ironstudio.com" in caplog.text and "alpha" in caplog.text


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

    studio_suspend(studio=studio_a, reason="Unpaid")
    try:
        assert ask(host_of(studio_a)) == 404
    finally:
        studio_activate(studio=studio_a, reason="Paid")


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


# -- who may: the services' own checks -----------------------------------------------------------------------


def test_only_a_platform_admin_on_the_platform_approves_or_rejects(studio_a, owner_a, platform_admin):
    domain = add(studio_a, owner_a)
    someone = make_user(None, email="someone@platform.test", role=Role.CLIENT)

    refusals = []
    for actor, schema in ((someone, None), (owner_a, studio_a), (platform_admin, studio_a)):
        for service, extra in ((domains.domain_approve, {}), (domains.domain_reject, {"reason": "No."})):
            context = tenant_context(schema) if schema else schema_context("public")
            with context, pytest.raises(Forbidden) as refused:
                service(domain=domain, actor=actor, **extra)
            refusals.append(refused.value.message)

    assert len(refusals) == 6 and all("Only a platform admin" in message for message in refusals)
    assert Domain.objects.get(pk=domain.pk).status == "pending"
    assert not events(studio_a, action__in=["domain_approved", "domain_rejected"])


def test_on_the_platform_no_one_is_a_studios_owner(studio_a, owner_a, platform_admin):
    """The platform admin's account has the owner role in the public schema: it still manages no studio's
    domains, and neither does a studio owner's object used outside the studio's schema."""
    domain = add(studio_a, owner_a)
    own = Domain.objects.get(domain=host_of(studio_a))

    for actor in (platform_admin, owner_a):
        with pytest.raises(Forbidden):
            domains.custom_domain_add(studio=studio_a, domain="other.ironstudio.com", actor=actor)
        with pytest.raises(Forbidden):
            domains.custom_domain_verify(domain=domain, actor=actor)
        with pytest.raises(Forbidden):
            domains.domain_remove(domain=domain, actor=actor)
        with pytest.raises(Forbidden):
            domains.domain_set_primary(domain=own, actor=actor)
        with pytest.raises(Forbidden):
            domains.studio_domains(studio=studio_a, user=actor)

    assert Domain.objects.filter(pk=domain.pk).exists()
    assert not Domain.objects.filter(domain="other.ironstudio.com").exists()


# -- races -------------------------------------------------------------------------------------------------------


def test_two_primary_switches_at_once_leave_exactly_one_primary(studio_a, owner_a):
    from tests.conftest import run_committed, run_in_threads

    names = ["one.ironstudio.com", "two.ironstudio.com"]

    def setup():
        return [
            Domain.objects.create(domain=name, tenant=studio_a, is_primary=False, status=Domain.Status.VERIFIED)
            for name in names
        ]

    made = run_committed(setup)
    try:
        for _round in range(6):
            results = run_in_threads(2, lambda index: _primary_set(studio_a, owner_a, made[index]))
            assert [type(result).__name__ for result in results] == ["Domain", "Domain"], results
            primaries = list(Domain.objects.filter(tenant=studio_a, is_primary=True).values_list("domain", flat=True))
            assert len(primaries) == 1 and primaries[0] in names
            run_committed(lambda: Domain.objects.filter(domain=host_of(studio_a)).update(is_primary=True))
            run_committed(lambda: Domain.objects.filter(domain__in=names).update(is_primary=False))
    finally:
        run_committed(lambda: Domain.objects.filter(domain__in=names).delete())
        run_committed(lambda: Domain.objects.filter(domain=host_of(studio_a)).update(is_primary=True))
        run_committed(lambda: StudioEvent.objects.filter(studio=studio_a, subject__in=names).delete())


def _primary_set(studio, owner, domain):
    with tenant_context(studio):
        return domains.domain_set_primary(domain=domain, actor=owner)


# -- the model's default and the Django admin ------------------------------------------------------------------


def test_a_domain_made_without_a_status_is_pending_and_a_new_studios_address_is_verified(studio_a):
    made = Domain.objects.create(domain="made-elsewhere.example", tenant=studio_a, is_primary=False)

    assert made.status == "pending"
    assert Client(HTTP_HOST="made-elsewhere.example").get("/").status_code == 404
    own = Domain.objects.get(domain=host_of(studio_a))
    assert (own.status, own.is_primary) == ("verified", True) and own.verified_at is not None


def test_the_django_admin_shows_a_studios_domains_but_changes_none(studio_a, owner_a, platform_admin):
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    from tenants.admin import DomainInline
    from tenants.models import Studio

    domain = add(studio_a, owner_a)
    request = RequestFactory().get("/admin/")
    request.user = platform_admin
    inline = DomainInline(Studio, django_admin.site)
    form = inline.get_formset(request, studio_a).form
    browser = Client(HTTP_HOST=PLATFORM_HOST)
    browser.force_login(platform_admin)

    page = browser.get(f"/admin/tenants/studio/{studio_a.pk}/change/")

    assert not {"domain", "status", "is_primary"} & set(form.base_fields)
    assert inline.has_add_permission(request, studio_a) is False and inline.can_delete is False
    assert page.status_code == 200
    html = page.content.decode()
    assert CUSTOM in html and 'name="domains-0-status"' not in html and 'name="domains-0-domain"' not in html
    assert Domain.objects.get(pk=domain.pk).status == "pending"
