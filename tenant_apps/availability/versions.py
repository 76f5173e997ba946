"""A studio's calendar version: a number that changes whenever something that decides free times changes
(a booking, a guest's hold, a break, a window, a trainer, a session type). Free times computed for a page are
cached under it, so a change is seen by the next page load, and nothing has to find and delete old entries.

The version is bumped at once and again when the transaction commits: at once, so the writer's own next read
doesn't reuse a stale week; after the commit, so a reader who computed from the old rows between the two
doesn't leave that under the new version. Writes that bypass model signals (``QuerySet.update``) call
``calendar_changed`` themselves; anything else missed is bounded by ``AVAILABILITY_CACHE_SECONDS``, and a
slot shown free that was taken meanwhile is answered "just taken" with the nearest free ones.

Keys go through the default cache, whose key function prefixes the studio's schema (django-tenants), so one
studio's version and weeks never answer for another's. The cache is used only when it is shared by every
process (Redis): with a per-process cache, one worker's bump would not reach the others.
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "availability:version"


def caching_enabled() -> bool:
    return settings.AVAILABILITY_CACHE_SECONDS > 0


def calendar_version() -> int:
    # A missing version (evicted, a new cache) starts from the clock, never from a number used before.
    cache.add(VERSION_KEY, time.time_ns(), timeout=None)
    return cache.get(VERSION_KEY) or time.time_ns()


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not there: any new number is a new version
        cache.set(VERSION_KEY, time.time_ns(), timeout=None)


def calendar_changed() -> None:
    """Free times in this studio may have changed: cached weeks are no longer used."""
    if not caching_enabled():
        return
    _bump()
    transaction.on_commit(_bump)


def cached(key: str, compute):
    """``compute()``, cached for ``AVAILABILITY_CACHE_SECONDS`` under ``key`` and the calendar's version."""
    if not caching_enabled():
        return compute()
    full_key = f"availability:{calendar_version()}:{key}"
    found = cache.get(full_key)
    if found is None:
        found = compute()
        cache.set(full_key, found, timeout=settings.AVAILABILITY_CACHE_SECONDS)
    return found
