"""A studio's custom domains: the owner adds one (pending), the platform verifies it by fetching a token it
publishes on that host (or a platform admin approves it), and only then does the host route to the studio.
Services (writes) and selectors (reads) in one module: they are few and share their rules.

A domain is proven for one studio only: its DNS must name that studio's own platform host (a CNAME to
<slug>.<platform domain>), and the platform must find the domain's token served on it. The token alone would
prove only that the name points at the platform, which serves the token of whichever studio claims it: anyone
could claim a name its real owner then points at us. The CNAME names the studio, so only its claim passes. A
name that can't have a CNAME (a bare domain behind an ALIAS or ANAME record) is left to a platform admin.

The fetch goes to the address the check itself resolved, refused if it is not a public one (no request to the
platform's own network), on port 80 with the domain as Host, under one deadline for the whole exchange.
"""

import http.client
import io
import ipaddress
import logging
import re
import secrets
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.utils import remove_www

from shared_apps.accounts.models import Role
from shared_apps.core.exceptions import ApplicationError, Conflict, Forbidden, NotFound, ValidationFailed
from tenants.models import Domain, Studio, StudioEvent
from tenants.selectors import normalise_host, studio_for_host
from tenants.services import reason_checked

logger = logging.getLogger(__name__)

VERIFY_PATH_PREFIX = "/.well-known/trainerhub-verify/"
# The check runs in a request ("check now") and in a periodic task: connecting, sending and reading the whole
# answer share this one deadline, so a host that trickles bytes can't hold a worker longer.
VERIFY_DEADLINE_SECONDS = 10
# The C library's resolver has no timeout of its own (retries can take tens of seconds): the lookup runs in one of
# a few threads of its own and the check stops waiting after this long. A lookup still stuck keeps its thread
# until the resolver gives up; with every thread stuck, the next checks time out too (they fail, never pass).
DNS_SECONDS = 5
_RESOLVER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="domain-dns")
# Plain HTTP: a domain that is not verified has no certificate yet. A module constant so tests reach a local server.
VERIFY_PORT = 80
# The page holds the token and nothing else; more than this is not our page.
VERIFY_MAX_BYTES = 1024
# The status line and headers before it; an answer larger than this is cut there.
VERIFY_MAX_HEADER_BYTES = 8 * 1024
# An owner's "check now" runs at most this often per domain (each one costs a DNS lookup and a connection).
CHECK_INTERVAL_SECONDS = 60
# The periodic task retries a pending domain this long after it was added; "check now" works at any time.
VERIFY_RETRY_DAYS = 7
# Someone may add a domain they don't own; after this long unproven, another studio may take the name.
PENDING_CLAIM_DAYS = 7
CUSTOM_DOMAINS_MAX = 5

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class DomainCheckFailed(ApplicationError):
    status_code = 409
    code = "domain_not_verified"
    message = "The domain could not be verified yet."


class DomainCheckTooSoon(ApplicationError):
    status_code = 429
    code = "domain_check_too_soon"
    message = "This domain was checked a moment ago: try again in a minute."


# -- rules -----------------------------------------------------------------------------------------------------


def platform_domain() -> str:
    return normalise_host(settings.PLATFORM_DOMAIN)


def is_platform_host(host: str) -> bool:
    """The platform's own host names, and every name under the platform's domain (studios' subdomains)."""
    host = normalise_host(host)
    platform = platform_domain()
    platform_hosts = {normalise_host(name) for name in settings.PLATFORM_HOSTS}
    return host in platform_hosts or host == platform or host.endswith(f".{platform}")


def studio_platform_host(studio: Studio) -> str:
    """The studio's own host on the platform, which a custom domain's CNAME record must name."""
    return f"{studio.slug}.{platform_domain()}"


def verification_path(domain: Domain) -> str:
    return f"{VERIFY_PATH_PREFIX}{domain.verification_token}"


def verification_url(domain: Domain) -> str:
    # Plain HTTP: a host that is not verified has no certificate yet (the TLS ask endpoint refuses it).
    return f"http://{domain.domain}{verification_path(domain)}"


def domain_name_clean(value: str) -> str:
    """``value`` as a host name the platform can serve (lower-case, no trailing dot, IDN as punycode), or
    ValidationFailed with a message for the owner."""

    def invalid(message: str) -> ValidationFailed:
        return ValidationFailed(message, fields={"domain": [message]})

    host = normalise_host(value or "")
    if not host:
        raise invalid("Enter a domain name, such as book.yourstudio.com.")
    if _is_ip(host):
        raise invalid("An IP address can't be a studio's domain: enter a domain name, such as book.yourstudio.com.")
    if any(character in host for character in ":/@?#"):
        raise invalid("Enter the domain name only, such as book.yourstudio.com, without https:// or a path.")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise invalid("This is not a valid domain name.") from None
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise invalid(
            "This is not a valid domain name: use letters, digits, hyphens and dots, such as book.yourstudio.com."
        )
    # The host middleware serves www.<name> as <name> (django-tenants' remove_www): <name> is what routes, so
    # the rules below apply to it (www.com is "com", www.co.uk is "co.uk").
    host = remove_www(host)
    labels = host.split(".")
    if is_platform_host(host):
        raise invalid(
            f"Addresses under {platform_domain()} are the platform's own: enter a domain of your own, "
            "such as book.yourstudio.com."
        )
    if len(labels) < 2 or labels[-1].isdigit() or _is_registry_suffix(labels):
        raise invalid("Enter a full domain name, such as book.yourstudio.com.")
    return host


# Second-level labels under which country registries sell names (co.uk, com.au, org.nz...). Without the public
# suffix list this catches the common ones; a platform admin's review catches the rest.
_REGISTRY_LABELS = frozenset(
    {"ac", "co", "com", "edu", "gob", "gov", "govt", "go", "ltd", "mil", "ne", "net", "nhs", "or", "org", "plc", "sch"}
)


def _is_registry_suffix(labels: list[str]) -> bool:
    return len(labels) == 2 and len(labels[1]) == 2 and labels[0] in _REGISTRY_LABELS


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _owner_only(actor) -> None:
    # Only a studio's owner, on the studio's own schema: on the public schema a user id names a platform account,
    # so no one there is a studio's owner (platform admins approve and reject, nothing else).
    if (
        connection.schema_name == "public"
        or not getattr(actor, "is_authenticated", False)
        or getattr(actor, "role", None) != Role.OWNER
    ):
        raise Forbidden("Only the studio's owner manages its domains.")


def _platform_admin_only(actor) -> None:
    # As shared_apps.core.permissions.IsPlatformAdmin: staff accounts exist only in the public schema.
    if connection.schema_name != "public" or not getattr(actor, "is_authenticated", False) or not actor.is_staff:
        raise Forbidden("Only a platform admin approves or rejects a studio's domains.")


def _studio_locked(studio_id: int) -> Studio:
    # Every write to a studio's domains locks the studio's row first, then the domains: one order for all, so
    # two writes (two primary switches, a switch and a removal) wait for each other instead of deadlocking.
    return Studio.objects.select_for_update().get(pk=studio_id)


def _event_record(*, studio: Studio, action: str, subject: str, actor=None, reason: str = "") -> StudioEvent:
    # The log lives in the public schema, where a user id names a platform account. The studio's own people live
    # in the studio's schema, so their ids would name someone else there: they are named in words instead.
    if actor is not None and connection.schema_name != "public":
        reason = " ".join(part for part in (reason, f"By {actor.email} ({actor.get_role_display()}).") if part)
        actor = None
    return StudioEvent.objects.create(studio=studio, actor=actor, action=action, subject=subject, reason=reason)


def _locked(domain: Domain) -> Domain:
    try:
        return Domain.objects.select_for_update().select_related("tenant").get(pk=domain.pk)
    except Domain.DoesNotExist:
        raise NotFound("This domain no longer exists.") from None


# -- services --------------------------------------------------------------------------------------------------


@transaction.atomic
def custom_domain_add(*, studio: Studio, domain: str, actor) -> Domain:
    """Add ``domain`` to ``studio``, pending until verified: it routes nowhere until then.

    A name another studio claimed is refused while its claim is pending and fresh, and while it is verified;
    a rejected claim, or a pending one older than PENDING_CLAIM_DAYS, is removed (logged on that studio) and the
    name is free. Whoever claims it, only the studio its DNS names can verify it."""
    _owner_only(actor)
    host = domain_name_clean(domain)
    claim = Domain.objects.select_related("tenant").filter(domain=host).first()
    claimant = claim.tenant_id if claim is not None else None
    # Whether a lapsed claim's DNS already names its studio: looked up before any lock is taken (it can take
    # seconds), and trusted under the locks only if the claim is still that row, pending.
    dns_names_claimant = claim is not None and _is_lapsed(claim) and _names_its_studio(claim)
    # Both studios, in id order (every domain write locks its studio first: this one may touch two).
    locked = {
        row.pk: row
        for row in Studio.objects.select_for_update().filter(pk__in={studio.pk, claimant} - {None}).order_by("pk")
    }
    studio = locked[studio.pk]
    custom_count = Domain.objects.filter(tenant=studio).exclude(domain__endswith=f".{platform_domain()}").count()
    if custom_count >= CUSTOM_DOMAINS_MAX:
        message = f"A studio can have at most {CUSTOM_DOMAINS_MAX} domains of its own: remove one first."
        raise ValidationFailed(message, fields={"domain": [message]})
    existing = Domain.objects.select_for_update().filter(domain=host).first()
    if existing is not None and existing.tenant_id not in locked:
        # Claimed by yet another studio between the look and the locks.
        message = "This domain has just been added by another studio."
        raise ValidationFailed(message, fields={"domain": [message]})
    if existing is not None:
        lapsed = _is_lapsed(existing)
        rejected = existing.status == Domain.Status.REJECTED
        if existing.tenant_id == studio.pk:
            message = "This studio already has this domain."
            raise ValidationFailed(message, fields={"domain": [message]})
        if lapsed and (existing.pk != claim.pk or dns_names_claimant):
            lapsed = False  # its owner's DNS is right; the check hasn't got through yet (or an admin will approve)
        if not (lapsed or rejected):
            message = (
                "This domain has been added by another studio. If it is yours, ask the platform's support: "
                "a platform admin can resolve a dispute over a domain."
            )
            raise ValidationFailed(message, fields={"domain": [message]})
        # Another studio's claim was refused, or never proved: it no longer blocks the name. The lapse lets no one
        # take a name away from its owner: only the studio the domain's CNAME names can verify it.
        _event_record(
            studio=existing.tenant,
            action=StudioEvent.Action.DOMAIN_REMOVED,
            subject=host,
            reason=(
                "Rejected; another studio added it."
                if rejected
                else f"Not verified within {PENDING_CLAIM_DAYS} days; another studio added it."
            ),
        )
        existing.delete()
    try:
        with transaction.atomic():
            created = Domain.objects.create(
                domain=host,
                tenant=studio,
                is_primary=False,
                status=Domain.Status.PENDING,
                verification_token=secrets.token_urlsafe(32),
            )
    except IntegrityError:
        # Two requests for one name both found it free; the unique index lets one through.
        message = "This domain has just been added by another studio."
        raise ValidationFailed(message, fields={"domain": [message]}) from None
    _event_record(studio=studio, action=StudioEvent.Action.DOMAIN_ADDED, subject=host, actor=actor)
    return created


def _is_lapsed(domain: Domain) -> bool:
    """A pending claim older than PENDING_CLAIM_DAYS: it no longer blocks the name by itself."""
    return domain.status == Domain.Status.PENDING and domain.created < timezone.now() - timedelta(
        days=PENDING_CLAIM_DAYS
    )


def _names_its_studio(domain: Domain) -> bool:
    """The domain's DNS already names its claimant's platform host (and no other studio's)."""
    try:
        _dns_checked(domain)
    except DomainCheckFailed:
        return False
    return True


class _Deadline:
    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer in time")
        return left


def _dns_checked(domain: Domain) -> list[str]:
    """The domain's IPv4 addresses the check may connect to, once its DNS names the studio's own platform host;
    DomainCheckFailed otherwise."""
    expected = studio_platform_host(domain.tenant)
    try:
        lookup = _RESOLVER.submit(socket.gethostbyname_ex, domain.domain)
        canonical, aliases, addresses = lookup.result(timeout=DNS_SECONDS)
    except (OSError, UnicodeError, TimeoutError):
        raise DomainCheckFailed(
            f"{domain.domain} has no DNS record yet. Create a CNAME record for it pointing to {expected}; "
            "changes can take up to a day to reach everyone."
        ) from None
    names = {normalise_host(name) for name in (canonical, *aliases)}
    if expected not in names or _other_studios_named(names, studio=domain.tenant):
        raise DomainCheckFailed(
            f"{domain.domain}'s DNS record does not point to {expected}. Create a CNAME record for it pointing to "
            f"{expected} (the studio's own address on the platform); changes can take up to a day to reach "
            "everyone. A domain that can't have a CNAME record is verified by a platform admin instead: ask the "
            "platform's support."
        )
    allowed = [address for address in addresses if _address_allowed(address)]
    if not allowed:
        raise DomainCheckFailed(
            f"{domain.domain} points to an address the platform does not connect to (not a public one)."
        )
    return allowed


def _other_studios_named(names: set[str], *, studio: Studio) -> bool:
    """The chain also names another studio's platform host: the proof is nobody's. (A platform whose wildcard
    points through a name such as lb.<platform domain> would otherwise let a studio with that slug verify every
    domain pointed at any studio; such names are reserved as slugs too.)"""
    suffix = f".{platform_domain()}"
    slugs = {name.removesuffix(suffix) for name in names if name.endswith(suffix)}
    return Studio.objects.filter(slug__in=slugs).exclude(pk=studio.pk).exists()


def _address_allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if settings.CUSTOM_DOMAIN_CHECK_PRIVATE_ADDRESSES:
        return True
    # Loopback, private, link-local, reserved, multicast (which Python counts as global): never fetched from.
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


class _Answer:
    """What http.client.HTTPResponse reads a response from: bytes already received."""

    def __init__(self, data: bytes):
        self.data = data

    def makefile(self, *_args, **_kwargs):
        return io.BufferedReader(io.BytesIO(self.data))


def _http_get(*, address: str, host: str, path: str, deadline: _Deadline) -> tuple[int, bytes]:
    """GET http://<host><path> from ``address`` itself (no proxy, no redirect followed), every step within
    ``deadline``; the status and at most VERIFY_MAX_BYTES of the body."""
    request = (
        f"GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: {settings.PLATFORM_NAME} domain check\r\n"
        "Accept: text/plain\r\nConnection: close\r\n\r\n"
    ).encode("ascii")
    limit = VERIFY_MAX_HEADER_BYTES + VERIFY_MAX_BYTES
    received = bytearray()
    with socket.create_connection((address, VERIFY_PORT), timeout=deadline.left()) as sock:
        sock.settimeout(deadline.left())
        sock.sendall(request)
        while len(received) < limit:
            sock.settimeout(deadline.left())
            chunk = sock.recv(limit - len(received))
            if not chunk:
                break
            received += chunk
            if _answer_complete(received):
                break
    if b"\r\n\r\n" not in received:
        # Closed before its headers ended, or headers longer than any answer of ours: not our page.
        raise http.client.HTTPException("incomplete headers")
    response = http.client.HTTPResponse(_Answer(bytes(received)), method="GET")
    response.begin()
    return response.status, response.read(VERIFY_MAX_BYTES)


def _answer_complete(received: bytes) -> bool:
    # A server that keeps the connection open after a complete answer should not make us wait for the deadline.
    head, separator, body = bytes(received).partition(b"\r\n\r\n")
    if not separator:
        return False
    match = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    return match is not None and len(body) >= int(match.group(1))


def _token_fetch(domain: Domain, addresses: list[str]) -> None:
    """Fetch the token from the exact stored name, or DomainCheckFailed saying what to fix."""
    expected = studio_platform_host(domain.tenant)
    where = f"http://{domain.domain}{VERIFY_PATH_PREFIX}…"
    deadline = _Deadline(VERIFY_DEADLINE_SECONDS)
    try:
        status, body = _http_get(
            address=addresses[0], host=domain.domain, path=verification_path(domain), deadline=deadline
        )
    except (OSError, http.client.HTTPException, ValueError) as error:
        # OSError: refused, unreachable, the deadline (TimeoutError); HTTPException: not an HTTP answer.
        if isinstance(error, TimeoutError):
            reason = "no answer in time"
        elif isinstance(error, http.client.HTTPException):
            reason = f"not an HTTP answer: {type(error).__name__}"
        else:
            reason = getattr(error, "strerror", None) or type(error).__name__
        raise DomainCheckFailed(
            f"{domain.domain} could not be reached ({reason}). Check that its CNAME record points to {expected}; "
            "changes can take up to a day to reach everyone."
        ) from None
    if status != 200:
        raise DomainCheckFailed(
            f"{where} answered {status} instead of the verification code. Check that the domain's CNAME record "
            f"points to {expected}; changes can take up to a day to reach everyone."
        )
    if body.decode("utf-8", "replace").strip() != domain.verification_token:
        raise DomainCheckFailed(
            f"{where} answered, but not with this studio's verification code: the domain points somewhere else. "
            f"Its CNAME record should point to {expected}."
        )


def _check_rate_limited(domain: Domain) -> None:
    # A domain's id is the platform's (the public schema); the cache's key function adds the schema anyway.
    key = f"tenants:domain-check:{domain.pk}"
    now = time.time()
    if not cache.add(key, now + CHECK_INTERVAL_SECONDS, CHECK_INTERVAL_SECONDS):
        again = cache.get(key) or now + CHECK_INTERVAL_SECONDS
        seconds = max(1, int(again - now + 0.999))
        raise DomainCheckTooSoon(
            f"It was checked less than a minute ago: try again in {seconds} second{'s' if seconds != 1 else ''}."
        )


def _verified_mark(*, domain: Domain, action: str, actor=None) -> Domain:
    domain.status = Domain.Status.VERIFIED
    domain.verified_at = timezone.now()
    # Saving drops the host's cached lookup (tenants.signals): it routes to the studio from the next request.
    domain.save(update_fields=["status", "verified_at"])
    _event_record(studio=domain.tenant, action=action, subject=domain.domain, actor=actor)
    return domain


def custom_domain_verify(*, domain: Domain, actor=None) -> Domain:
    """Check that the domain's DNS names the studio's own platform host and that the domain answers its token;
    if so, mark it verified. ``actor``: the owner who pressed "check now" (rate-limited per domain); none for
    the periodic task.

    Raises DomainCheckFailed (with what to fix) when either check fails. The lookup and the fetch run outside
    any transaction: no lock is held while a slow host keeps us waiting.
    """
    if actor is not None:
        _owner_only(actor)
    if domain.status != Domain.Status.PENDING:
        if domain.is_verified:
            return domain
        raise Conflict("A rejected domain can't be checked again: remove it, or ask the platform's support.")
    if actor is not None:
        _check_rate_limited(domain)
    _token_fetch(domain, _dns_checked(domain))
    with transaction.atomic():
        _studio_locked(domain.tenant_id)
        domain = _locked(domain)
        if domain.status != Domain.Status.PENDING:  # approved, rejected or verified meanwhile
            return domain
        # The platform proved it, whoever pressed the button.
        return _verified_mark(domain=domain, action=StudioEvent.Action.DOMAIN_VERIFIED)


@transaction.atomic
def domain_approve(*, domain: Domain, actor) -> Domain:
    """A platform admin verifies a pending domain by hand (e.g. a bare domain, which can't have a CNAME)."""
    _platform_admin_only(actor)
    _studio_locked(domain.tenant_id)
    domain = _locked(domain)
    if domain.status != Domain.Status.PENDING:
        raise Conflict("This domain is not waiting for verification.")
    return _verified_mark(domain=domain, action=StudioEvent.Action.DOMAIN_APPROVED, actor=actor)


@transaction.atomic
def domain_reject(*, domain: Domain, actor, reason: str) -> Domain:
    """A platform admin refuses a pending domain; the owner sees why, and may remove it. The name is then free
    for another studio's claim."""
    _platform_admin_only(actor)
    reason = reason_checked(reason, required_message="Say why, so the studio's owner knows what to do.")
    _studio_locked(domain.tenant_id)
    domain = _locked(domain)
    if domain.status != Domain.Status.PENDING:
        raise Conflict("This domain is not waiting for verification.")
    domain.status = Domain.Status.REJECTED
    domain.save(update_fields=["status"])
    _event_record(
        studio=domain.tenant,
        action=StudioEvent.Action.DOMAIN_REJECTED,
        subject=domain.domain,
        actor=actor,
        reason=reason,
    )
    return domain


@transaction.atomic
def domain_set_primary(*, domain: Domain, actor) -> Domain:
    """Make a verified domain the studio's primary one: links in mails lead there (shared_apps.core.tenancy)."""
    _owner_only(actor)
    _studio_locked(domain.tenant_id)
    domain = _locked(domain)
    if not domain.is_verified:
        raise Conflict("Only a verified domain can be the studio's primary domain.")
    if domain.is_primary:
        return domain
    # The studio's row is locked: two owners' clicks run one after the other and leave exactly one primary.
    domain.is_primary = True
    domain.save(update_fields=["is_primary"])  # DomainMixin.save takes it from the others
    _event_record(
        studio=domain.tenant, action=StudioEvent.Action.PRIMARY_DOMAIN_SET, subject=domain.domain, actor=actor
    )
    return domain


@transaction.atomic
def domain_remove(*, domain: Domain, actor) -> None:
    """Remove a custom domain; if it was primary, the studio's platform subdomain becomes primary again."""
    _owner_only(actor)
    _studio_locked(domain.tenant_id)
    domain = _locked(domain)
    if is_platform_host(domain.domain):
        raise Conflict("The studio's own address on the platform can't be removed.")
    studio = domain.tenant
    was_primary = domain.is_primary
    domain.delete()
    if was_primary:
        fallback = (
            Domain.objects.select_for_update()
            .filter(tenant=studio, domain__endswith=f".{platform_domain()}")
            .order_by("pk")
            .first()
        )
        if fallback is not None:
            fallback.is_primary = True
            fallback.save(update_fields=["is_primary"])
    _event_record(studio=studio, action=StudioEvent.Action.DOMAIN_REMOVED, subject=domain.domain, actor=actor)


def pending_domains_verify() -> dict[str, int]:
    """Check every pending domain added in the last VERIFY_RETRY_DAYS (the periodic task): counts by outcome.

    Each domain on its own: one that fails in an unexpected way is logged and the others are still checked; one
    removed, approved or rejected meanwhile is skipped."""
    since = timezone.now() - timedelta(days=VERIFY_RETRY_DAYS)
    counts = {"verified": 0, "pending": 0, "failed": 0}
    domain_ids = list(
        Domain.objects.filter(status=Domain.Status.PENDING, created__gte=since)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for domain_id in domain_ids:
        domain = Domain.objects.select_related("tenant").filter(pk=domain_id, status=Domain.Status.PENDING).first()
        if domain is None:
            continue
        try:
            custom_domain_verify(domain=domain)
        except ApplicationError:
            counts["pending"] += 1
        except Exception:
            logger.exception(
                "Checking the pending domain %s of studio %s failed", domain.domain, domain.tenant.schema_name
            )
            counts["failed"] += 1
        else:
            counts["verified"] += 1
    return counts


# -- selectors -------------------------------------------------------------------------------------------------


def studio_domains(*, studio: Studio, user) -> list[Domain]:
    """The studio's domains, primary first, then its platform address, then the rest by name."""
    _owner_only(user)
    domains = list(Domain.objects.filter(tenant=studio))
    domains.sort(key=lambda domain: (not domain.is_primary, not is_platform_host(domain.domain), domain.domain))
    rejections = dict(
        StudioEvent.objects.filter(studio=studio, action=StudioEvent.Action.DOMAIN_REJECTED)
        .order_by("created", "id")
        .values_list("subject", "reason")
    )
    for domain in domains:
        domain.is_platform_address = is_platform_host(domain.domain)
        domain.rejection_reason = rejections.get(domain.domain, "") if domain.status == Domain.Status.REJECTED else ""
    return domains


def studio_domain_get(*, studio: Studio, user, domain_id: int) -> Domain:
    """One of the studio's own domains; another studio's is not found."""
    _owner_only(user)
    domain = Domain.objects.select_related("tenant").filter(tenant=studio, pk=domain_id).first()
    if domain is None:
        raise NotFound("This studio has no such domain.")
    return domain


def pending_domain_list():
    return Domain.objects.select_related("tenant").filter(status=Domain.Status.PENDING).order_by("created", "pk")


def pending_domain_get(*, domain_id: int) -> Domain:
    domain = pending_domain_list().filter(pk=domain_id).first()
    if domain is None:
        raise NotFound("No domain is waiting for verification under this id.")
    return domain


def pending_domain_token(*, host: str, token: str) -> str | None:
    """The token a pending domain publishes at its well-known path, or None (any other host or token)."""
    if not token or len(token) > 64:
        return None
    return (
        Domain.objects.filter(domain=normalise_host(host), status=Domain.Status.PENDING, verification_token=token)
        .values_list("verification_token", flat=True)
        .first()
    )


def host_may_have_certificate(*, host: str) -> bool:
    """Whether the TLS proxy may get a certificate for ``host``: the platform's hosts, and the verified domains
    of active studios (their platform subdomains included). Cached with the host lookup."""
    host = normalise_host(host or "")
    if not host or _is_ip(host):
        return False
    if host in {normalise_host(name) for name in settings.PLATFORM_HOSTS}:
        return True
    studio = studio_for_host(host=remove_www(host))
    return studio is not None and studio.is_active
