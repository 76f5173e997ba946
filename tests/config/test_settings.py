"""Settings come from the environment: production refuses to start without its secrets; REDIS_URL picks Redis."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps({'cache': settings.CACHES['default']['BACKEND'], 'broker': settings.CELERY_BROKER_URL, "
    "'key_function': settings.CACHES['default'].get('KEY_FUNCTION'), 'debug': settings.DEBUG}))"
)
PRODUCTION = {
    "SECRET_KEY": "x" * 50,
    "DATABASE_URL": "postgres://nobody@127.0.0.1:1/nothing",
    "REDIS_URL": "redis://127.0.0.1:6379/9",
    "ALLOWED_HOSTS": "trainerhub.app,.trainerhub.app",
    "PLATFORM_DOMAIN": "trainerhub.app",
}


def _settings(module: str, **env) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in PRODUCTION}
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": module, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("missing", sorted(PRODUCTION))
def test_production_refuses_to_start_without_each_secret(missing):
    result = _settings("config.settings.production", **{k: v for k, v in PRODUCTION.items() if k != missing})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_production_starts_with_its_secrets_and_no_debug():
    result = _settings("config.settings.production", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["debug"] is False
    assert values["cache"] == "django_redis.cache.RedisCache"


def test_without_redis_url_the_cache_and_the_broker_are_files():
    result = _settings("config.settings.local", DATABASE_URL=PRODUCTION["DATABASE_URL"])

    values = json.loads(result.stdout)
    assert values["cache"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert values["broker"] == "filesystem://"
    assert values["key_function"] == "django_tenants.cache.make_key"


def test_without_redis_url_every_process_sees_what_another_cached(tmp_path):
    """`make run`'s gunicorn workers are separate processes: a checked import, a login throttle or a bumped
    calendar version written by one must be read by the next."""
    script = (
        "import sys, django; django.setup(); from django.core.cache import cache; "
        "cache.set('shared', 'seen') if sys.argv[1] == 'write' else print(cache.get('shared'))"
    )
    env = {key: value for key, value in os.environ.items() if key not in PRODUCTION}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.local", "CACHE_DIR": str(tmp_path)}
    env["DATABASE_URL"] = PRODUCTION["DATABASE_URL"]
    for step in ("write", "read"):
        result = subprocess.run(
            [sys.executable, "-c", script, step], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "seen"


def test_with_redis_url_both_cache_and_broker_use_redis():
    result = _settings(
        "config.settings.local", DATABASE_URL=PRODUCTION["DATABASE_URL"], REDIS_URL="redis://127.0.0.1:6379/3"
    )

    values = json.loads(result.stdout)
    assert values["cache"] == "django_redis.cache.RedisCache"
    assert values["broker"] == "redis://127.0.0.1:6379/3"
    assert values["key_function"] == "django_tenants.cache.make_key"


@pytest.mark.parametrize(
    ("extra", "refusal"),
    [
        ({"SMS_BACKEND": "console"}, "SMS_BACKEND"),
        ({"TWILIO_ACCOUNT_SID": "AC123"}, "TWILIO_AUTH_TOKEN"),
        ({"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "secret"}, "TWILIO_FROM_NUMBER"),
        ({"MAIL_ESP": "postmark", "POSTMARK_SERVER_TOKEN": "token"}, "ANYMAIL_WEBHOOK_SECRET"),
    ],
)
def test_production_refuses_messaging_that_cannot_work(extra, refusal):
    """Texts marked sent that nobody receives, or an ESP whose tracking webhook anyone could call."""
    result = _settings("config.settings.production", **PRODUCTION, **extra)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and refusal in result.stderr


def test_production_starts_with_twilio_and_an_esp_set_up():
    result = _settings(
        "config.settings.production",
        **PRODUCTION,
        TWILIO_ACCOUNT_SID="AC123",
        TWILIO_AUTH_TOKEN="secret",
        TWILIO_MESSAGING_SERVICE_SID="MG123",
        POSTMARK_SERVER_TOKEN="token",
        ANYMAIL_WEBHOOK_SECRET="postmark:secret",
    )

    assert result.returncode == 0, result.stderr
