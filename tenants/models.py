import re

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, RegexValidator
from django.db import connections, models
from django.utils import timezone
from django_tenants.clone import CloneSchema
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import (
    get_creation_fakes_migrations,
    get_tenant_base_schema,
    get_tenant_database_alias,
    schema_exists,
)
from phonenumber_field.modelfields import PhoneNumberField

from shared_apps.core.validators import TEXT_MAX_LENGTH, TITLE_MAX_LENGTH, validate_name, validate_timezone
from tenants.countries import COUNTRY_CODES
from tenants.themes import available_themes

# A slug becomes both a host label (<slug>.<platform domain>) and, with '-' as '_', a PostgreSQL schema name:
# lower-case letters, digits and single inner hyphens, starting with a letter.
SLUG_PATTERN = r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$"
RESERVED_SLUGS = frozenset(
    {
        "public",
        "www",
        "api",
        "admin",
        "platform",
        "static",
        "media",
        "mail",
        "studio-template",
        "information-schema",
        # Names a platform's own DNS may route studios' hosts through (custom domains' CNAME chains pass them).
        "app",
        "cdn",
        "edge",
        "ingress",
        "lb",
        "origin",
        "proxy",
    }
)


def validate_slug(value: str) -> None:
    if not re.fullmatch(SLUG_PATTERN, value or ""):
        raise ValidationError(
            "Use lower-case letters, digits and single hyphens, starting with a letter.", code="invalid_slug"
        )
    if value in RESERVED_SLUGS or value.startswith("pg-"):
        raise ValidationError("This name is reserved.", code="reserved_slug")


def validate_theme(value: str) -> None:
    if value not in available_themes():
        raise ValidationError(
            f"Unknown theme: {value}. Choose one of: {', '.join(available_themes())}.", code="invalid_theme"
        )


def validate_country(value: str) -> None:
    if value not in COUNTRY_CODES:
        raise ValidationError("Use an ISO 3166 country code such as GB or US.", code="invalid_country")


# A session type's cancellation window is at most this many hours (60 days); the studio's default as well.
CANCELLATION_WINDOW_MAX_HOURS = 24 * 60


# The messages a studio may send by SMS (to clients who opted in), and the default: the 1-hour reminder.
SMS_KIND_CHOICES = [
    ("booking_confirmed", "Booking confirmed"),
    ("booking_rescheduled", "Booking rescheduled"),
    ("booking_cancelled", "Booking cancelled"),
    ("reminder_24h", "Reminder, 24 hours before"),
    ("reminder_1h", "Reminder, 1 hour before"),
]


def default_sms_kinds() -> list[str]:
    return ["reminder_1h"]


def validate_sms_kinds(value: list[str]) -> None:
    allowed = {kind for kind, _ in SMS_KIND_CHOICES}
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ValidationError(f"Not a message that can go by SMS: {', '.join(unknown)}.")


def logo_path(studio: "Studio", filename: str) -> str:
    return f"studios/{studio.schema_name}/logo/{filename}"


def schema_name_for(slug: str) -> str:
    return slug.replace("-", "_")


class Studio(TenantMixin):
    """A fitness studio: one tenant, one PostgreSQL schema."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    name = models.CharField(max_length=TITLE_MAX_LENGTH, validators=[validate_name])
    slug = models.CharField(max_length=40, unique=True, validators=[validate_slug])
    theme = models.CharField(max_length=40, default="classic", validators=[validate_theme])
    brand_color = models.CharField(
        max_length=7,
        default="#2563eb",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour such as #2563eb.")],
    )
    logo = models.ImageField(upload_to=logo_path, blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    currency = models.CharField(
        max_length=3,
        default="USD",
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use an ISO 4217 code such as EUR.")],
    )
    # The region of phone numbers typed without their country code. The platform starts in London.
    country = models.CharField(max_length=2, default="GB", validators=[validate_country])
    contact_email = models.EmailField(blank=True)
    contact_phone = PhoneNumberField(blank=True)  # stored E.164
    address = models.TextField(blank=True, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)])
    cancellation_policy = models.TextField(blank=True, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)])
    # What a new session type takes when it names no cancellation window of its own.
    default_cancellation_window_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MaxValueValidator(CANCELLATION_WINDOW_MAX_HOURS)]
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # The owner's choice: staff (owner, managers, trainers) must set up two-factor authentication.
    staff_mfa_required = models.BooleanField(default=False)
    # Visitors without an account may book on the studio's site (the slot is held until they confirm by mail).
    guest_booking_enabled = models.BooleanField(default=True)
    sms_kinds = ArrayField(
        models.CharField(max_length=32, choices=SMS_KIND_CHOICES),
        default=default_sms_kinds,
        blank=True,
        validators=[validate_sms_kinds],
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    # Schemas are cloned, rows included, from TENANT_BASE_SCHEMA, whose only rows are its migration history:
    # a new studio starts with that history and needs no migration recorded one by one.
    clone_mode = "DATA"
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """Clone the template, migration history included, and stop there.

        django-tenants would then run a faked ``migrate`` to record every migration as applied. The copied
        history already says exactly what the template holds, so that step is skipped: it is most of the
        cost of a clone, and it would wrongly mark as applied any migration the template had not yet run.
        """
        base_schema = get_tenant_base_schema() if get_creation_fakes_migrations() else None
        if not (sync_schema and base_schema and schema_exists(base_schema)):
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        CloneSchema().clone_schema(base_schema, self.schema_name, self.clone_mode, set_connection=False)
        connections[get_tenant_database_alias()].set_schema_to_public()
        return True

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Domain(DomainMixin):
    """A host name a studio answers on: its platform subdomain (made verified by studio_create), or a custom
    domain the owner added, which routes nowhere until it is verified (its DNS names the studio and the platform
    found our token served on it, or a platform admin approved it). Pending by default: a row made any other way
    routes nowhere until someone vouches for it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for verification"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Published at /.well-known/trainerhub-verify/<token> on the domain while it is pending.
    verification_token = models.CharField(max_length=64, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED


class StudioEvent(models.Model):
    """The platform's audit log of a studio: who onboarded, suspended or reactivated it, who approved or
    rejected its domains, when, and why."""

    class Action(models.TextChoices):
        ONBOARDED = "onboarded", "Onboarded"
        SUSPENDED = "suspended", "Suspended"
        REACTIVATED = "reactivated", "Reactivated"
        DOMAIN_ADDED = "domain_added", "Domain added"
        DOMAIN_VERIFIED = "domain_verified", "Domain verified"
        DOMAIN_APPROVED = "domain_approved", "Domain approved"
        DOMAIN_REJECTED = "domain_rejected", "Domain rejected"
        DOMAIN_REMOVED = "domain_removed", "Domain removed"
        PRIMARY_DOMAIN_SET = "primary_domain_set", "Primary domain set"

    studio = models.ForeignKey(Studio, on_delete=models.CASCADE, related_name="events")
    # Nobody: the platform itself (a domain verified by its token).
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    reason = models.TextField(blank=True, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)])
    # What it was about beyond the studio: a domain's name.
    subject = models.CharField(max_length=253, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["studio", "-created"])]

    def __str__(self) -> str:
        return f"{self.studio}: {self.get_action_display()}"
