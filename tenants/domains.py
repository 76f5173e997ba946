"""A studio's custom domains: the owner adds one (pending), the platform verifies it by fetching a token it
publishes on that host (or a platform admin approves it), and only then does the host route to the studio.
Services (writes) and selectors (reads) in one module: they are few and share their rules.

A domain is proven by the token: the owner points the host at the platform (a CNAME), the tenant middleware
answers http://<domain>/.well-known/trainerhub-verify/<token> for that pending domain, and the check fetches it.
"""

import ipaddress
import re
import secrets
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.utils import remove_www

from shared_apps.accounts.models import Role
from shared_apps.core.exceptions import ApplicationError, Conflict, Forbidden, NotFound, ValidationFailed
from shared_apps.core.validators import REASON_MAX_LENGTH
from tenants.models import Domain, Studio, StudioEvent
from tenants.selectors import normalise_host, studio_for_host

VERIFY_PATH_PREFIX = "/.well-known/trainerhub-verify/"
# The check runs in a request ("check now") and in a periodic task: a host that doesn't answer soon won't.
VERIFY_TIMEOUT_SECONDS = 5
# The page holds the token and nothing else; more than this is not our page.
VERIFY_MAX_BYTES = 1024
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


# -- rules -----------------------------------------------------------------------------------------------------


def platform_domain() -> str:
    return normalise_host(settings.PLATFORM_DOMAIN)


def is_platform_host(host: str) -> bool:
    """The platform's own host names, and every name under the platform's domain (studios' subdomains)."""
    host = normalise_host(host)
    platform = platform_domain()
    platform_hosts = {normalise_host(name) for name in settings.PLATFORM_HOSTS}
    return host in platform_hosts or host == platform or host.endswith(f".{platform}")


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
    # The host middleware serves www.<name> as <name> (django-tenants' remove_www): <name> is what routes.
    host = remove_www(host)
    if is_platform_host(host):
        raise invalid(
            f"Addresses under {platform_domain()} are the platform's own: enter a domain of your own, "
            "such as book.yourstudio.com."
        )
    if len(labels) < 2 or labels[-1].isdigit():
        raise invalid("Enter a full domain name, such as book.yourstudio.com.")
    return host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _owner_only(actor) -> None:
    # On a studio's host only its owner manages domains; platform admins act from the platform (public schema).
    if connection.schema_name != "public" and getattr(actor, "role", None) != Role.OWNER:
        raise Forbidden("Only the studio's owner manages its domains.")


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
    """Add ``domain`` to ``studio``, pending until verified: it routes nowhere until then."""
    _owner_only(actor)
    host = domain_name_clean(domain)
    custom_count = Domain.objects.filter(tenant=studio).exclude(domain__endswith=f".{platform_domain()}").count()
    if custom_count >= CUSTOM_DOMAINS_MAX:
        message = f"A studio can have at most {CUSTOM_DOMAINS_MAX} domains of its own: remove one first."
        raise ValidationFailed(message, fields={"domain": [message]})
    existing = Domain.objects.select_for_update().filter(domain=host).first()
    if existing is not None:
        stale = existing.status == Domain.Status.PENDING and existing.created < timezone.now() - timedelta(
            days=PENDING_CLAIM_DAYS
        )
        if existing.tenant_id == studio.pk:
            message = "This studio already has this domain."
            raise ValidationFailed(message, fields={"domain": [message]})
        if not stale:
            message = (
                "This domain has been added by another studio. If it is yours, point it at the platform and "
                "try again in a few days, or ask the platform's support."
            )
            raise ValidationFailed(message, fields={"domain": [message]})
        # Another studio claimed it and never proved it: the claim lapses rather than block the real owner.
        _event_record(
            studio=existing.tenant,
            action=StudioEvent.Action.DOMAIN_REMOVED,
            subject=host,
            reason=f"Not verified within {PENDING_CLAIM_DAYS} days; another studio added it.",
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
                created=timezone.now(),
            )
    except IntegrityError:
        # Two requests for one name both found it free; the unique index lets one through.
        message = "This domain has just been added by another studio."
        raise ValidationFailed(message, fields={"domain": [message]}) from None
    _event_record(studio=studio, action=StudioEvent.Action.DOMAIN_ADDED, subject=host, actor=actor)
    return created


def _token_fetch(domain: Domain) -> None:
    """Fetch the token from the domain, or else from its www. form (both are served as the domain); the first
    host's DomainCheckFailed says why it isn't our token."""
    try:
        _token_fetch_from(domain, domain.domain)
    except DomainCheckFailed:
        try:
            _token_fetch_from(domain, f"www.{domain.domain}")
        except DomainCheckFailed:
            pass
        else:
            return
        raise


def _token_fetch_from(domain: Domain, host: str) -> None:
    # No redirects followed: the token must be answered on this very host, and a redirect could lead anywhere.
    opener = urllib.request.build_opener(_NoRedirect)
    # The URL is http:// and a host name domain_name_clean accepted: no file:// or other scheme.
    request = urllib.request.Request(
        f"http://{host}{verification_path(domain)}", headers={"User-Agent": f"{settings.PLATFORM_NAME} domain check"}
    )
    where = f"http://{host}{VERIFY_PATH_PREFIX}…"
    try:
        with opener.open(request, timeout=VERIFY_TIMEOUT_SECONDS) as response:
            body = response.read(VERIFY_MAX_BYTES)
    except urllib.error.HTTPError as error:
        raise DomainCheckFailed(
            f"{where} answered {error.code} instead of the verification code. Check that the domain's DNS "
            f"record points at {platform_domain()}; changes can take up to a day to reach everyone."
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DomainCheckFailed(
            f"{host} could not be reached ({reason}). Check that its DNS record exists and points at "
            f"{platform_domain()}; changes can take up to a day to reach everyone."
        ) from None
    if body.decode("utf-8", "replace").strip() != domain.verification_token:
        raise DomainCheckFailed(
            f"{where} answered, but not with this studio's verification code: the domain points somewhere else. "
            f"Its DNS record should point at {platform_domain()}."
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _verified_mark(*, domain: Domain, action: str, actor=None) -> Domain:
    domain.status = Domain.Status.VERIFIED
    domain.verified_at = timezone.now()
    # Saving drops the host's cached lookup (tenants.signals): it routes to the studio from the next request.
    domain.save(update_fields=["status", "verified_at"])
    _event_record(studio=domain.tenant, action=action, subject=domain.domain, actor=actor)
    return domain


def custom_domain_verify(*, domain: Domain, actor=None) -> Domain:
    """Fetch the token from the domain and, if it is ours, mark the domain verified.

    Raises DomainCheckFailed (with what to fix) when the domain doesn't answer with its token. The fetch runs
    outside any transaction: no lock is held while a slow host keeps us waiting.
    """
    if actor is not None:
        _owner_only(actor)
    if domain.status != Domain.Status.PENDING:
        if domain.is_verified:
            return domain
        raise Conflict("A rejected domain can't be checked again: remove it, or ask the platform's support.")
    _token_fetch(domain)
    with transaction.atomic():
        domain = _locked(domain)
        if domain.status != Domain.Status.PENDING:  # approved, rejected or verified meanwhile
            return domain
        # The platform proved it, whoever pressed the button.
        return _verified_mark(domain=domain, action=StudioEvent.Action.DOMAIN_VERIFIED)


@transaction.atomic
def domain_approve(*, domain: Domain, actor) -> Domain:
    """A platform admin verifies a pending domain by hand (e.g. the studio's DNS can't be pointed yet)."""
    domain = _locked(domain)
    if domain.status != Domain.Status.PENDING:
        raise Conflict("This domain is not waiting for verification.")
    return _verified_mark(domain=domain, action=StudioEvent.Action.DOMAIN_APPROVED, actor=actor)


@transaction.atomic
def domain_reject(*, domain: Domain, actor, reason: str) -> Domain:
    """A platform admin refuses a pending domain; the owner sees why, and may remove it."""
    reason = (reason or "").strip()
    if not reason:
        message = "Say why, so the studio's owner knows what to do."
        raise ValidationFailed(message, fields={"reason": [message]})
    if len(reason) > REASON_MAX_LENGTH:
        message = f"Keep the reason to {REASON_MAX_LENGTH} characters or fewer."
        raise ValidationFailed(message, fields={"reason": [message]})
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
    domain = _locked(domain)
    if not domain.is_verified:
        raise Conflict("Only a verified domain can be the studio's primary domain.")
    if domain.is_primary:
        return domain
    # Lock the studio's other domains too: two owners' clicks leave exactly one primary.
    list(Domain.objects.select_for_update().filter(tenant_id=domain.tenant_id))
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
    """Check every pending domain added in the last VERIFY_RETRY_DAYS (the periodic task): counts by outcome."""
    since = timezone.now() - timedelta(days=VERIFY_RETRY_DAYS)
    counts = {"verified": 0, "pending": 0}
    for domain in Domain.objects.select_related("tenant").filter(status=Domain.Status.PENDING, created__gte=since):
        try:
            custom_domain_verify(domain=domain)
        except DomainCheckFailed:
            counts["pending"] += 1
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
