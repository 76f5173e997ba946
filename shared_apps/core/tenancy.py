"""The studio the current connection serves, for code that must not import the tenants app."""

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.cache import CacheHandler
from django.core.cache.backends.base import BaseCache
from django.db import connection
from django_tenants.models import TenantMixin


def current_studio():
    """The studio whose schema is active, or None on the platform (public schema)."""
    tenant = getattr(connection, "tenant", None)
    return tenant if isinstance(tenant, TenantMixin) else None


def site_url(path: str = "/") -> str:
    """An absolute link to ``path`` on the current schema's own host: the studio's primary domain, or the
    platform's. Links in mails are built with it, never from a request's Host header, which the sender of a
    request chooses (a reset link must not lead to a port or a host of an attacker's choosing)."""
    from django.conf import settings

    studio = current_studio()
    return _absolute(studio.get_primary_domain().domain if studio else settings.PLATFORM_DOMAIN, path)


def platform_url(path: str = "/") -> str:
    """An absolute link to ``path`` on the platform's host, whatever schema is active (providers' webhooks)."""
    from django.conf import settings

    return _absolute(settings.PLATFORM_DOMAIN, path)


def _absolute(host: str, path: str) -> str:
    from django.conf import settings

    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    return f"{settings.SITE_SCHEME}://{host}{port}{path}"


def _platform_key(key: str, key_prefix: str, version) -> str:
    return f"platform:{key_prefix}:{version}:{key}"


@functools.cache
def platform_cache() -> BaseCache:
    """The default cache's storage under keys that are the same in every schema.

    The default cache prefixes every key with the current schema (django_tenants.cache.make_key), which is
    right for data; a counter that must span studios (failed logins from one address) uses this instead.
    """
    from django.conf import settings

    config = {**settings.CACHES["default"], "KEY_FUNCTION": _platform_key}
    config.pop("REVERSE_KEY_FUNCTION", None)
    return CacheHandler({"default": config})["default"]


def studio_timezone() -> str:
    studio = current_studio()
    return studio.timezone if studio is not None else "UTC"


def studio_currency() -> str:
    studio = current_studio()
    return studio.currency if studio is not None else "USD"


def studio_date(moment: datetime) -> date:
    """The day ``moment`` falls on in the studio's zone (package expiry dates are studio days)."""
    return moment.astimezone(ZoneInfo(studio_timezone())).date()
