"""Settings shared by every environment; each value that differs between machines comes from the environment."""

from pathlib import Path

import environ
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)

# The platform's own host; every studio gets <slug>.<PLATFORM_DOMAIN> as its primary domain.
PLATFORM_DOMAIN = env.str("PLATFORM_DOMAIN", default="localhost")
PLATFORM_NAME = env.str("PLATFORM_NAME", default="TrainerHub")
# Hosts that serve the platform (public schema) without a lookup in the domain table.
PLATFORM_HOSTS = env.list("PLATFORM_HOSTS", default=[PLATFORM_DOMAIN, f"www.{PLATFORM_DOMAIN}"])
# Studios' custom domains can be anything: the tenant middleware answers 404 for hosts it doesn't know,
# so ALLOWED_HOSTS only has to keep out what is not a host name at all.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[PLATFORM_DOMAIN, f".{PLATFORM_DOMAIN}"])
# A custom domain's check connects only to public addresses; on one machine (local development, tests) a domain
# may resolve to a private or loopback one.
CUSTOM_DOMAIN_CHECK_PRIVATE_ADDRESSES = env.bool("CUSTOM_DOMAIN_CHECK_PRIVATE_ADDRESSES", default=False)

# -- applications ----------------------------------------------------------------------------------------

# Auth, sessions, tokens and allauth sit in both lists: platform admins live in public, each studio's
# staff and clients only in their studio's schema.
BOTH_SCHEMAS_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "shared_apps.accounts",
    "rest_framework.authtoken",
    "allauth",
    "allauth.account",
    "allauth.mfa",
]

SHARED_APPS = [
    # Before django_tenants so that its `migrate` (which also migrates the template schema) wins.
    "tenants",
    # Before django_tenants, whose admin index and app list templates would win otherwise: they carry inline
    # styles that the CSP refuses. Django's own admin templates are CSP-ready (nonces).
    "django.contrib.admin",
    "django_tenants",
    "shared_apps.core",
    # SMS opt-outs and usage, Twilio's and the ESP's webhooks: the platform host's.
    "shared_apps.messaging",
    *BOTH_SCHEMAS_APPS,
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI and ReDoc served from our own static files: no page loads anything from another origin.
    "drf_spectacular_sidecar",
    "django_filters",
    "phonenumber_field",
]

TENANT_APPS = [
    *BOTH_SCHEMAS_APPS,
    "tenant_apps.trainers",
    "tenant_apps.availability",
    "tenant_apps.clients",
    "tenant_apps.packages",
    "tenant_apps.bookings",
    "tenant_apps.notifications",
    "tenant_apps.site",
    "tenant_apps.desk",
    # {% htmx_script %} (its bundled htmx) and request.htmx on the booking pages.
    "django_htmx",
]

INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Studio"
TENANT_DOMAIN_MODEL = "tenants.Domain"
TENANT_LIMIT_SET_CALLS = True
# New studios are cloned from this migrated, row-less schema instead of being migrated one by one.
TENANT_BASE_SCHEMA = "studio_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

# The header middlewares come before the tenant middleware, so its own 403/404/503 pages carry the same
# security headers as every other response; none of them needs the studio's schema.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tenants.middleware.StudioMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "shared_apps.core.middleware.ApiTrailingSlashMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "shared_apps.accounts.middleware.MFAEnrollmentMiddleware",
]

# Nothing from another origin and no inline script: scripts and styles come from our own static files. A
# <style> element runs only with the response's nonce (`{% csp_nonce_attr %}`; ReDoc writes its styles so);
# style= attributes never. data: images are the icons inside Swagger UI's and ReDoc's stylesheets.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_REFERRER_POLICY = "same-origin"
# A pending custom domain proves itself over plain HTTP (it has no certificate yet): never redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^\.well-known/trainerhub-verify/"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# -- database --------------------------------------------------------------------------------------------


def database_settings() -> dict:
    """DATABASE_URL when set; otherwise the embedded PostgreSQL in var/pgdata, started on demand."""
    if env.str("DATABASE_URL", default=""):
        database = env.db_url("DATABASE_URL")
    else:
        from config.embedded_db import project_cluster

        database = project_cluster().ensure_running()
    database["ENGINE"] = "django_tenants.postgresql_backend"
    database.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
    database["CONN_HEALTH_CHECKS"] = True
    return database


DATABASES = {"default": database_settings()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# -- cache and celery ------------------------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")

# Every key is prefixed with the current schema, so nothing cached for one studio is read by another.
_CACHE_KEYS = {
    "KEY_FUNCTION": "django_tenants.cache.make_key",
    "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "trainerhub",
            **_CACHE_KEYS,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
else:
    # Files every process of `make run` shares (gunicorn's workers, the Celery worker and beat), emptied at each
    # start: what one worker caches or counts (a login throttle, a checked import, the calendar's version) the
    # others see. CACHE_DIR: another folder (the tests' live servers take one each).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env.str("CACHE_DIR", default=str(VAR_DIR / "cache")),
            # Its default (300) would evict a checked import or a throttle's count on a busy afternoon.
            "OPTIONS": {"MAX_ENTRIES": 10_000},
            **_CACHE_KEYS,
        }
    }
    # A broker in plain files, so the web process, the worker and beat share it without any server.
    # CELERY_BROKER_DIR: another folder (a benchmark's server queues where no worker reads).
    CELERY_BROKER_URL = "filesystem://"
    _BROKER_DIR = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "celery")))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }

CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# Run tasks in the calling process (the test suite, the benchmarks); never in a real deployment.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = "UTC"
# The worker keeps LOGGING's handlers (each line names its schema) instead of replacing the root logger's.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    # Hourly, not daily: each studio's day ends at its own midnight, and a run with nothing due changes nothing.
    "packages-expire-due": {"task": "packages.expire_due_all_studios", "schedule": 60 * 60},
    # Client imports left queued (the broker was out of reach) are queued again; lost running ones are failed.
    "clients-import-sweep": {"task": "clients.import_sweep_all_studios", "schedule": 5 * 60},
    # Guests' slot holds that expired (they stopped blocking already) are deleted, with the guest's details.
    "bookings-holds-cleanup": {"task": "bookings.holds_cleanup_all_studios", "schedule": 60 * 60},
    # The outbox: what is due (reminders, mails whose queueing failed) or stuck in sending goes out.
    # A fan-out still queued when the next one is due is dropped (workers were down): they don't pile up.
    "notifications-send-due": {
        "task": "notifications.send_due_all_studios",
        "schedule": 60,
        "options": {"expires": 55},
    },
    # Custom domains waiting for verification are checked again (for a week after they were added).
    "tenants-domains-verify-pending": {
        "task": "tenants.domains_verify_pending",
        "schedule": 10 * 60,
        "options": {"expires": 9 * 60},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The two booking reminders' leads in minutes, the early one first ("10,2" lets a demo show both within minutes).
NOTIFICATION_REMINDER_LEADS_MINUTES = env.list("NOTIFICATION_REMINDER_LEADS_MINUTES", cast=int, default=[1440, 60])
# A client CSV larger than this is imported by Celery (202 and a job to poll) instead of within the request.
# The import runs at about 10,000 rows a second and a typical row is ~80-100 bytes, so 1 MB (~12,000 rows,
# about a second of a web worker) keeps nearly every studio's whole client list on the immediate answer.
CLIENT_IMPORT_SYNC_MAX_BYTES = env.int("CLIENT_IMPORT_SYNC_MAX_BYTES", default=1024 * 1024)
# Staff can take back a mistaken "completed" or "no-show" for this many days after marking it.
BOOKING_UNDO_DAYS = env.int("BOOKING_UNDO_DAYS", default=7)
# Free times a page computed are kept this long under the studio's calendar version (availability/versions.py),
# which every process sees bumped (Redis, or the shared cache files of `make run`). 0: never cached.
AVAILABILITY_CACHE_SECONDS = env.int("AVAILABILITY_CACHE_SECONDS", default=60)
# A guest's booking keeps its slot this long while the guest confirms it from the mailed link.
BOOKING_HOLD_MINUTES = env.int("BOOKING_HOLD_MINUTES", default=15)
# Per address: at most this many unconfirmed live holds at once, and this many new holds an hour.
BOOKING_HOLDS_LIVE_PER_ADDRESS = env.int("BOOKING_HOLDS_LIVE_PER_ADDRESS", default=5)
BOOKING_HOLDS_PER_HOUR_PER_ADDRESS = env.int("BOOKING_HOLDS_PER_HOUR_PER_ADDRESS", default=20)
# And this many confirmation mails an hour to one guest's email, whoever asks (no mail-bombing an inbox).
BOOKING_HOLDS_PER_HOUR_PER_EMAIL = env.int("BOOKING_HOLDS_PER_HOUR_PER_EMAIL", default=5)
# Live (unconfirmed, unexpired) holds in one studio at once: per guest email, per trainer's calendar, in all.
BOOKING_HOLDS_LIVE_PER_EMAIL = env.int("BOOKING_HOLDS_LIVE_PER_EMAIL", default=2)
BOOKING_HOLDS_LIVE_PER_TRAINER = env.int("BOOKING_HOLDS_LIVE_PER_TRAINER", default=10)
BOOKING_HOLDS_LIVE_PER_STUDIO = env.int("BOOKING_HOLDS_LIVE_PER_STUDIO", default=50)

# -- auth ------------------------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
# Emails are unique case-insensitively through a constraint on Lower(email), which this check can't see.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "/accounts/login/"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_ADAPTER = "shared_apps.accounts.adapters.StudioAccountAdapter"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# A reset asked for an address with no account sends nothing at all (no mail to arbitrary addresses).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
# The web reset form queues the same Celery task as the API, so neither answers faster for unknown addresses.
ACCOUNT_FORMS = {
    "reset_password": "shared_apps.accounts.forms.PasswordResetForm",
    # Sign-up asks for the client's first and last name and, optionally, a phone number.
    "signup": "shared_apps.accounts.forms.StudioSignupForm",
}
# allauth and DRF must agree on which address a request comes from (X-Forwarded-For behind NUM_PROXIES).
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("NUM_PROXIES", default=0)

# Failed logins (API and web pages alike, see shared_apps/accounts/throttles.py): tight per account and
# address, loose per account from addresses that never logged in to it, and per address over all accounts
# of every studio. Rates read "<count>/<period>", the period like "min", "15m", "hour" or "300s".
LOGIN_FAILURE_RATES = {
    "account_address": env.str("THROTTLE_LOGIN_ACCOUNT_ADDRESS", default="5/15m"),
    "account": env.str("THROTTLE_LOGIN_ACCOUNT", default="30/hour"),
    "address": env.str("THROTTLE_LOGIN_IP", default="20/min"),
}

# Two-factor authentication: authenticator app (TOTP) and recovery codes. Optional for studio accounts,
# required for platform accounts and for the staff of a studio that asks for it (shared_apps/accounts/mfa.py).
MFA_ADAPTER = "shared_apps.accounts.adapters.StudioMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]

# Session cookies stay host-only: a studio's session is never sent to another studio's host.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True

# -- API -------------------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    # DRF's Token and Session authentication, refusing accounts that must set up two-factor authentication first.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "shared_apps.accounts.authentication.TokenAuthentication",
        "shared_apps.accounts.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["shared_apps.core.parsers.JSONObjectParser"],
    "DEFAULT_SCHEMA_CLASS": "shared_apps.core.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "shared_apps.core.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "shared_apps.core.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "password_reset": env.str("THROTTLE_PASSWORD_RESET", default="5/hour"),
        "password_change": env.str("THROTTLE_PASSWORD_CHANGE", default="10/hour"),
        "register": env.str("THROTTLE_REGISTER", default="20/hour"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "TrainerHub API",
    "DESCRIPTION": "Bookings, trainers, clients and packages of a studio; the platform API on the platform host.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No call to validator.swagger.io from the docs page.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # One name per choice set: several models call theirs "status".
    "ENUM_NAME_OVERRIDES": {
        "BookingStatusEnum": "tenant_apps.bookings.models.BookingStatus",
        "ClientPackageStatusEnum": "tenant_apps.packages.models.ClientPackage.Status",
        "StudioStatusEnum": "tenants.models.Studio.Status",
        "ClientImportStatusEnum": "tenant_apps.clients.models.ImportStatus",
        # How a package was sold; a booking's recorded payment takes the same methods but "complimentary".
        "PackagePaymentMethodEnum": "tenant_apps.packages.models.PaymentMethod",
        "SessionPaymentMethodEnum": "tenant_apps.bookings.models.SESSION_PAYMENT_METHODS",
        "NotificationKindEnum": "tenant_apps.notifications.models.Kind",
        "NotificationStatusEnum": "tenant_apps.notifications.models.Status",
    },
}

# -- templates, themes, static ---------------------------------------------------------------------------

THEMES_DIR = BASE_DIR / "themes"
DEFAULT_THEME = "classic"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": False,
        "OPTIONS": {
            "loaders": [
                (
                    "tenants.template_loaders.CachedThemeLoader",
                    [
                        "tenants.template_loaders.ThemeLoader",
                        "django.template.loaders.app_directories.Loader",
                    ],
                )
            ],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "tenants.context_processors.studio",
            ],
        },
    }
]

# Plain-text mails: the same theme loaders, without HTML escaping.
TEMPLATES.append(
    {
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {"autoescape": False, "loaders": TEMPLATES[0]["OPTIONS"]["loaders"]},
    }
)

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [
    (f"themes/{path.name}", path / "static") for path in sorted(THEMES_DIR.iterdir()) if (path / "static").is_dir()
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# Uploaded files (studio logos) served by the app itself: on one machine (`make run`, `make dev`); production
# serves MEDIA_URL from its web server or a bucket.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=False)

# -- email and SMS ---------------------------------------------------------------------------------------

DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="no-reply@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Mail goes out through Anymail's backend for MAIL_ESP once that ESP's credentials are set; until then it is printed
# on the console (MAIL_BACKEND names any other backend, and wins). Postmark is the documented production ESP.
# Anymail has dropped official support for SendGrid (it warns on every send): it stays for installs that set only
# SENDGRID_API_KEY, and by MAIL_ESP=sendgrid.
_ESP_KEYS = {
    # ESP: (the settings it needs, the ones it may take)
    "postmark": (["POSTMARK_SERVER_TOKEN"], []),
    "mailgun": (["MAILGUN_API_KEY", "MAILGUN_SENDER_DOMAIN"], ["MAILGUN_WEBHOOK_SIGNING_KEY"]),
    "sendgrid": (["SENDGRID_API_KEY"], []),
    "resend": (["RESEND_API_KEY"], []),
    # boto3's own credentials (AWS_* variables or the machine's role); needs `pip install django-anymail[amazon-ses]`.
    "amazon_ses": ([], []),
}
_only_sendgrid = env.str("SENDGRID_API_KEY", default="") and not env.str("POSTMARK_SERVER_TOKEN", default="")
MAIL_ESP = env.str("MAIL_ESP", default="sendgrid" if _only_sendgrid else "postmark")
if MAIL_ESP not in _ESP_KEYS:
    raise environ.ImproperlyConfigured(f"MAIL_ESP: one of {', '.join(_ESP_KEYS)}.")
_needed, _optional = _ESP_KEYS[MAIL_ESP]
ANYMAIL = {key: env.str(key) for key in [*_needed, *_optional] if env.str(key, default="")}
if env.str("ANYMAIL_WEBHOOK_SECRET", default=""):
    # "user:password": the basic auth Anymail's tracking webhooks require of the ESP's calls.
    ANYMAIL["WEBHOOK_SECRET"] = env.str("ANYMAIL_WEBHOOK_SECRET")
_ESP_BACKEND = f"anymail.backends.{MAIL_ESP}.EmailBackend" if all(key in ANYMAIL for key in _needed) else None
_MAIL_BACKEND = env.str("MAIL_BACKEND", default=_ESP_BACKEND or "django.core.mail.backends.console.EmailBackend")
MAILERS = {"default": {"BACKEND": _MAIL_BACKEND}}
if _MAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":
    # Each mail as a file under EMAIL_FILE_PATH (the browser tests read their server's mail there). Not a setting
    # of that name: Django refuses the old EMAIL_* settings beside MAILERS.
    MAILERS["default"]["OPTIONS"] = {"file_path": env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))}

# SMS through Twilio's SDK once TWILIO_ACCOUNT_SID is set (from the Messaging Service if one is named, else from
# TWILIO_FROM_NUMBER); until then each SMS is printed on the console. Twilio's webhooks (status callbacks, inbound
# STOP/START) come to the platform host and are verified with TWILIO_AUTH_TOKEN. SMS_BACKEND "off": no SMS at all
# (nothing is written, clients aren't asked); production's default without Twilio.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
SMS_BACKEND = env.str("SMS_BACKEND", default="twilio" if TWILIO_ACCOUNT_SID else "console")

# -- i18n ------------------------------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# -- logging ---------------------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"schema": {"()": "django_tenants.log.TenantContextFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(schema_name)s] %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["schema"], "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# -- links in emails sent outside a request (management commands, tasks) ----------------------------------

SITE_SCHEME = env.str("SITE_SCHEME", default="http")
SITE_PORT = env.str("SITE_PORT", default="")
