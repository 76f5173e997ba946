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

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django_tenants.utils import schema_context

VERSION_KEY = "availability:version"
logger = logging.getLogger(__name__)


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


def _bump_quietly(schema: str) -> None:
    """A cache that can't be reached must not fail the write that changed the calendar (nor answer 500 for a
    booking already committed): the weeks cached before then expire on their own."""
    try:
        if connection.schema_name == schema:
            _bump()  # a schema_context would make the connection set its search path again (a round trip)
        else:
            with schema_context(schema):  # the studio that changed, whatever the connection is on by now
                _bump()
    except Exception:
        logger.exception("could not bump the calendar version of %s", schema)


def calendar_changed() -> None:
    """Free times in this studio may have changed: cached weeks are no longer used."""
    if not caching_enabled():
        return
    schema = connection.schema_name
    _bump_quietly(schema)
    transaction.on_commit(lambda: _bump_quietly(schema), robust=True)


def cached(key: str, compute):
    """``compute()``, cached for ``AVAILABILITY_CACHE_SECONDS`` under ``key`` and the calendar's version; computed
    without the cache when the cache can't be reached."""
    if not caching_enabled():
        return compute()
    try:
        full_key = f"availability:{calendar_version()}:{key}"
        found = cache.get(full_key)
    except Exception:
        logger.exception("the cache of free times of %s can't be read", connection.schema_name)
        return compute()
    if found is None:
        found = compute()
        try:
            cache.set(full_key, found, timeout=settings.AVAILABILITY_CACHE_SECONDS)
        except Exception:
            logger.exception("the cache of free times of %s can't be written", connection.schema_name)
    return found
