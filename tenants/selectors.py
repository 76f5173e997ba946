from django.core.cache import cache
from django.db import connection

from tenants.models import Domain, Studio

HOST_CACHE_SECONDS = 300


def normalise_host(host: str) -> str:
    """Host names compare case-insensitively, and ``example.com.`` (fully qualified) is ``example.com``."""
    return host.strip().lower().removesuffix(".")


def host_cache_key(host: str) -> str:
    return f"tenants:host:{normalise_host(host)}"


def studio_for_host(*, host: str) -> Studio | None:
    """The studio that serves ``host``, or None; cached so a warm host costs no query.

    Runs in the public schema (the middleware switches to it first), so the cache key carries that schema and
    names no studio's data. Only verified domains route: a pending or rejected custom domain is an unknown host.
    Unknown hosts are not cached, so a new domain works at once and random hosts can't fill the cache. Writes to
    studios and domains (a domain's status included) drop the affected keys (tenants/signals.py).
    """
    assert connection.schema_name == "public", "host lookups run in the public schema"
    # Domain rows are stored normalised (tenants.services), so an exact match uses the unique index.
    host = normalise_host(host)
    key = host_cache_key(host)
    studio = cache.get(key)
    if studio is None:
        domain = Domain.objects.select_related("tenant").filter(domain=host, status=Domain.Status.VERIFIED).first()
        if domain is None:
            return None
        studio = domain.tenant
        cache.set(key, studio, HOST_CACHE_SECONDS)
    return studio


def studio_list():
    return Studio.objects.exclude(schema_name="public").prefetch_related("domains").order_by("name")
