"""Production: every secret comes from the environment, and nothing starts without them."""

import os

from django.core.exceptions import ImproperlyConfigured

# Checked before the base settings load: without DATABASE_URL they would start an embedded database.
# Redis too: with several workers, a per-process cache would count login attempts per process and keep a
# suspended studio's host alive in one process's memory.
_missing = [
    name
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "PLATFORM_DOMAIN")
    if not os.environ.get(name, "").strip()
]
if _missing:
    raise ImproperlyConfigured(f"Production needs these environment variables: {', '.join(_missing)}")

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = False

SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Only a local trial over plain HTTP (docker compose on localhost) turns these off.
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A year, studios' subdomains included: every host of the platform is served over HTTPS only.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"

if env.str("SENTRY_DSN", default=""):
    import sentry_sdk

    sentry_sdk.init(dsn=env.str("SENTRY_DSN"), send_default_pii=False)
SITE_SCHEME = env.str("SITE_SCHEME", default="https")

# Without Anymail's basic-auth secret the ESP's tracking webhooks would be open to anyone (Anymail only warns).
if MAILERS["default"]["BACKEND"].startswith("anymail.") and "WEBHOOK_SECRET" not in ANYMAIL:  # noqa: F405
    raise ImproperlyConfigured("Production needs ANYMAIL_WEBHOOK_SECRET (user:password) for the ESP's webhooks.")

# SMS go through Twilio or not at all: the console would mark texts "sent" that nobody receives.
SMS_BACKEND = env.str("SMS_BACKEND", default="twilio" if TWILIO_ACCOUNT_SID else "off")  # noqa: F405
if SMS_BACKEND not in ("twilio", "off"):
    raise ImproperlyConfigured('Production sends SMS through Twilio (SMS_BACKEND "twilio") or not at all ("off").')
if SMS_BACKEND == "twilio" and not (
    TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and (TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER)  # noqa: F405
):
    raise ImproperlyConfigured(
        "SMS through Twilio need TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_MESSAGING_SERVICE_SID "
        "or TWILIO_FROM_NUMBER."
    )
