"""The studio the current connection serves, for code that must not import the tenants app."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import connection
from django_tenants.models import TenantMixin


def current_studio():
    """The studio whose schema is active, or None on the platform (public schema)."""
    tenant = getattr(connection, "tenant", None)
    return tenant if isinstance(tenant, TenantMixin) else None


def studio_url(path: str = "/") -> str:
    """An absolute link to ``path`` on the current studio's primary domain, for mails sent outside a request."""
    from django.conf import settings

    studio = current_studio()
    if studio is None:
        raise RuntimeError("studio_url needs a studio's schema to be active")
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    return f"{settings.SITE_SCHEME}://{studio.get_primary_domain()}{port}{path}"


def studio_timezone() -> str:
    studio = current_studio()
    return studio.timezone if studio is not None else "UTC"


def studio_currency() -> str:
    studio = current_studio()
    return studio.currency if studio is not None else "USD"


def studio_date(moment: datetime) -> date:
    """The day ``moment`` falls on in the studio's zone (package expiry dates are studio days)."""
    return moment.astimezone(ZoneInfo(studio_timezone())).date()
