"""With Redis, cached values stay inside their studio: every key carries its schema."""

import os

import pytest
import redis
from django_tenants.utils import schema_context, tenant_context

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def _reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


if not _reachable():
    if os.environ.get("CI"):
        raise RuntimeError(f"CI must have Redis at {REDIS_URL}")
    pytest.skip(f"no Redis at {REDIS_URL} on this machine (CI runs these)", allow_module_level=True)


@pytest.fixture
def redis_cache():
    from django_redis.cache import RedisCache

    cache = RedisCache(
        REDIS_URL,
        {
            "KEY_PREFIX": "trainerhub-test",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        },
    )
    yield cache
    raw = redis.Redis.from_url(REDIS_URL)
    for key in raw.scan_iter("*:trainerhub-test:*"):
        raw.delete(key)


@pytest.mark.django_db
def test_a_value_cached_for_one_studio_is_invisible_to_another(redis_cache, studio_a, studio_b):
    with tenant_context(studio_a):
        redis_cache.set("next-free-slot", "09:00")
    with tenant_context(studio_b):
        assert redis_cache.get("next-free-slot") is None
        redis_cache.set("next-free-slot", "11:00")
    with tenant_context(studio_a):
        assert redis_cache.get("next-free-slot") == "09:00"
    with schema_context("public"):
        assert redis_cache.get("next-free-slot") is None

    keys = sorted(key.decode() for key in redis.Redis.from_url(REDIS_URL).scan_iter("*:trainerhub-test:*"))
    assert keys == ["alpha:trainerhub-test:1:next-free-slot", "bravo:trainerhub-test:1:next-free-slot"]
