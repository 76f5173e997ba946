"""Provisioning: the one way a studio comes to exist (management command, platform API and admin all call it);
and the studio's own settings, which its owner changes."""

import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone as django_timezone
from django_tenants.utils import quote_schema_name, schema_context, schema_exists, tenant_context
from PIL import Image
from rest_framework import status

from shared_apps.accounts.models import Role, User, UserManager
from shared_apps.accounts.services import staff_invite, user_create
from shared_apps.core.exceptions import ApplicationError, ValidationFailed
from shared_apps.core.images import image_as_webp
from shared_apps.core.validators import REASON_MAX_LENGTH, validate_name
from tenants.models import Domain, Studio, StudioEvent, schema_name_for
from tenants.selectors import normalise_host


def _studio_build(*, name, slug, timezone, theme, currency, brand_color, country) -> tuple[Studio, str]:
    studio = Studio(
        name=(name or "").strip(),
        slug=slug,
        schema_name=schema_name_for(slug or ""),
        timezone=timezone,
        theme=theme or settings.DEFAULT_THEME,
        currency=currency,
        brand_color=brand_color,
        country=country,
    )
    return studio, f"{slug}.{settings.PLATFORM_DOMAIN}"


def studio_validate(
    *,
    name: str,
    slug: str,
    owner_email: str,
    owner_password: str | None = None,
    timezone: str = "UTC",
    theme: str | None = None,
    currency: str = "USD",
    brand_color: str = "#2563eb",
    country: str = "GB",
    **_ignored,
) -> None:
    """Every check that can fail runs before the schema exists, so a refusal leaves nothing behind."""
    studio, domain = _studio_build(
        name=name,
        slug=slug,
        timezone=timezone,
        theme=theme,
        currency=currency,
        brand_color=brand_color,
        country=country,
    )
    owner_email = UserManager.normalize_email(owner_email)
    errors: dict[str, list[str]] = {}
    try:
        studio.full_clean(exclude=["schema_name"])
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        # The name goes into every mail's headers: a line break there would start a header of its own.
        validate_name(studio.name)
    except ValidationError as error:
        errors.setdefault("name", []).extend(error.messages)
    if "slug" not in errors and (
        Studio.objects.filter(schema_name__iexact=studio.schema_name).exists()
        or Domain.objects.filter(domain=domain).exists()
        or schema_exists(studio.schema_name)
    ):
        errors["slug"] = ["A studio with this slug already exists."]
    try:
        validate_email(owner_email)
    except ValidationError as error:
        errors["owner_email"] = list(error.messages)
    if owner_password:
        try:
            password_validation.validate_password(owner_password, user=User(email=owner_email))
        except ValidationError as error:
            errors["owner_password"] = list(error.messages)
    if errors:
        raise ValidationFailed(fields=errors)


@transaction.atomic
def studio_create(
    *,
    name: str,
    slug: str,
    owner_email: str,
    owner_password: str | None = None,
    owner_first_name: str = "",
    owner_last_name: str = "",
    timezone: str = "UTC",
    theme: str | None = None,
    currency: str = "USD",
    brand_color: str = "#2563eb",
    country: str = "GB",
    actor: User | None = None,
) -> Studio:
    """Create a studio: its row, a schema cloned from the template, its primary domain and its owner.

    All in one transaction (PostgreSQL DDL is transactional): if any step fails, no schema, domain or row stays.
    Without a password the owner is mailed a link to choose one. ``country`` (ISO 3166 alpha-2) is the region
    of phone numbers typed without their country code, so it is set from the start, not left at the default.
    ``actor`` is the platform admin who onboarded it (none: a command or the platform itself), for the audit log.
    """
    if connection.schema_name != "public":
        raise RuntimeError("Studios are created from the public schema.")
    fields = {
        "timezone": timezone,
        "theme": theme,
        "currency": currency,
        "brand_color": brand_color,
        "country": country,
    }
    studio_validate(name=name, slug=slug, owner_email=owner_email, owner_password=owner_password, **fields)
    studio, domain = _studio_build(name=name, slug=slug, **fields)
    owner_email = UserManager.normalize_email(owner_email)

    try:
        # Two requests for one slug both pass validation; the unique indexes let only one of them through.
        with transaction.atomic():
            studio.save(verbosity=0)
            # Stored as the host middleware compares it: lower-case, no trailing dot.
            Domain.objects.create(
                domain=normalise_host(domain),
                tenant=studio,
                is_primary=True,
                # The platform's own name for the studio: nothing to prove (a domain is pending by default).
                status=Domain.Status.VERIFIED,
                verified_at=django_timezone.now(),
            )
    except IntegrityError as error:
        raise ValidationFailed(fields={"slug": ["A studio with this slug already exists."]}) from error
    StudioEvent.objects.create(studio=studio, actor=actor, action=StudioEvent.Action.ONBOARDED)
    with tenant_context(studio):
        owner_fields = {"email": owner_email, "first_name": owner_first_name, "last_name": owner_last_name}
        if owner_password:
            user_create(**owner_fields, password=owner_password, role=Role.OWNER)
        else:
            staff_invite(**owner_fields, role=Role.OWNER)
    return studio


REASON_REQUIRED_MESSAGE = "Say why: the reason is kept in the studio's audit log."


def reason_checked(reason: str, *, required_message: str = REASON_REQUIRED_MESSAGE) -> str:
    """The reason a platform admin gives (suspending or reactivating a studio, through the API or the platform's
    pages; rejecting a domain), stripped: never blank, never longer than REASON_MAX_LENGTH."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(required_message, fields={"reason": [required_message]})
    if len(reason) > REASON_MAX_LENGTH:
        message = f"Keep the reason to {REASON_MAX_LENGTH} characters or fewer."
        raise ValidationFailed(message, fields={"reason": [message]})
    return reason


def _studio_status_set(*, studio: Studio, status: str, action: str, actor: User | None, reason: str) -> Studio:
    reason = reason_checked(reason)
    # Locked: two admins suspending at once write one change and one line in the log, not two.
    studio = _studio_locked(studio)
    if studio.status == status:
        return studio
    studio.status = status
    studio.save(update_fields=["status", "updated"])
    StudioEvent.objects.create(studio=studio, actor=actor, action=action, reason=reason)
    return studio


@transaction.atomic
def studio_suspend(*, studio: Studio, reason: str, actor: User | None = None) -> Studio:
    """Every page and API call of the studio answers 403 from now on; nothing is deleted. The audit log keeps
    who suspended it and why (``reason`` is required); suspending a suspended studio changes nothing and logs
    nothing."""
    return _studio_status_set(
        studio=studio, status=Studio.Status.SUSPENDED, action=StudioEvent.Action.SUSPENDED, actor=actor, reason=reason
    )


@transaction.atomic
def studio_activate(*, studio: Studio, reason: str, actor: User | None = None) -> Studio:
    """The studio answers again; the audit log keeps who reactivated it and why (``reason`` is required)."""
    return _studio_status_set(
        studio=studio, status=Studio.Status.ACTIVE, action=StudioEvent.Action.REACTIVATED, actor=actor, reason=reason
    )


# -- the studio's own settings -----------------------------------------------------------------------------

# What an owner may change. The slug and schema name are fixed for good; suspension is the platform's.
STUDIO_SETTINGS_FIELDS = frozenset(
    {
        "name",
        "brand_color",
        "theme",
        "timezone",
        "currency",
        "country",
        "contact_email",
        "contact_phone",
        "address",
        "cancellation_policy",
        "default_cancellation_window_hours",
        "guest_booking_enabled",
        "sms_kinds",
    }
)
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_SIDE = 4096  # pixels; a logo is shown small, and a huge image costs every page that loads it
LOGO_FORMATS = ("PNG", "JPEG", "WEBP")
LOGO_SIDE = 512  # pixels: what is stored, whatever was uploaded (the header shows it a few rem high)


class LogoTooLarge(ApplicationError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "file_too_large"
    message = f"The logo is larger than {LOGO_MAX_BYTES // (1024 * 1024)} MB."


@dataclass
class StudioUpdate:
    studio: Studio
    # What the change did not do that the owner might expect it to (e.g. move bookings to the new time zone).
    notices: list[str] = field(default_factory=list)


def _studio_locked(studio: Studio) -> Studio:
    # Two saves of the settings page (or a save and a suspension) each write only their own fields, one after
    # the other on the locked row, so neither brings back what the other changed.
    return Studio.objects.select_for_update().get(pk=studio.pk)


@transaction.atomic
def studio_update(*, studio: Studio, **changes) -> StudioUpdate:
    """Change the studio's own settings (STUDIO_SETTINGS_FIELDS); every value is checked by the model's rules.

    Saving the row drops the cached host → studio entries (tenants.signals), so the next request sees it.
    Changing the time zone moves no booking: bookings are instants, shown from now on in the new zone.
    """
    unknown = set(changes) - STUDIO_SETTINGS_FIELDS
    if unknown:
        raise ValueError(f"not studio settings: {sorted(unknown)}")
    studio = _studio_locked(studio)
    previous = {name: getattr(studio, name) for name in changes}
    for name, value in changes.items():
        setattr(studio, name, value)
    try:
        studio.clean_fields(exclude=[f.name for f in Studio._meta.fields if f.name not in changes])
    except ValidationError as error:
        raise ValidationFailed(fields=error.message_dict) from error
    changed = [name for name in changes if getattr(studio, name) != previous[name]]
    if changed:
        studio.save(update_fields=[*changed, "updated"])
    notices = []
    if "timezone" in changed:
        notices.append(
            f"The studio's time zone is now {studio.timezone} (it was {previous['timezone']}). Existing bookings "
            "have not moved: each keeps its exact moment, now shown in the new zone, so a session booked for "
            "09:00 may show another hour. Each trainer's availability stays in the trainer's own time zone; "
            "change it on the trainer if their hours should follow."
        )
    if "currency" in changed:
        notices.append(
            f"The studio's currency is now {studio.currency}. Existing session types, packages and sales keep "
            "the currency they were priced in; new ones are priced in the new currency."
        )
    return StudioUpdate(studio=studio, notices=notices)


def _logo_resized(logo: File) -> ContentFile:
    """An acceptable logo (PNG, JPEG or WebP, read from its content, never from its name or stated type), as a
    WebP at most LOGO_SIDE pixels a side: every page of the studio loads it."""
    if logo.size > LOGO_MAX_BYTES:
        raise LogoTooLarge()
    try:
        with Image.open(logo, formats=list(LOGO_FORMATS)) as image:
            width, height = image.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        width = height = 0  # image_as_webp says what is wrong with it
    if max(width, height) > LOGO_MAX_SIDE:
        raise ValidationFailed(fields={"logo": [f"Use an image at most {LOGO_MAX_SIDE} pixels wide and high."]})
    logo.seek(0)
    return image_as_webp(logo, side=LOGO_SIDE, max_pixels=LOGO_MAX_SIDE * LOGO_MAX_SIDE, field="logo")


def _file_delete_after_commit(file_name: str) -> None:
    if file_name:
        storage = Studio._meta.get_field("logo").storage
        transaction.on_commit(lambda: storage.delete(file_name))


@transaction.atomic
def studio_logo_set(*, studio: Studio, logo: File) -> Studio:
    """Store ``logo`` (PNG, JPEG or WebP, checked by content), resized, under the studio's own folder, replacing
    the old one."""
    resized = _logo_resized(logo)
    studio = _studio_locked(studio)
    previous = studio.logo.name
    # A new name every time: a browser or a CDN holding the old URL can't show the old image under it, and the
    # name the uploader chose never reaches a page (the logo's URL is written into CSS).
    studio.logo.save(f"logo-{secrets.token_hex(8)}.webp", resized, save=False)
    studio.save(update_fields=["logo", "updated"])
    _file_delete_after_commit(previous)
    return studio


@transaction.atomic
def studio_logo_remove(*, studio: Studio) -> Studio:
    studio = _studio_locked(studio)
    previous = studio.logo.name
    studio.logo = ""
    studio.save(update_fields=["logo", "updated"])
    _file_delete_after_commit(previous)
    return studio


def template_schema_sync(*, verbosity: int = 1) -> None:
    """Bring the template schema that new studios are cloned from up to the latest migrations.

    Migrating it also fills a few tables (content types, permissions); those rows are removed so that the
    template holds nothing but its migration history.
    """
    name = settings.TENANT_BASE_SCHEMA
    with schema_context("public"), connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_schema_name(name)}")
    call_command("migrate_schemas", tenant=True, schema_name=name, interactive=False, verbosity=verbosity)
    with schema_context("public"), connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> 'django_migrations'",
            [name],
        )
        tables = [f"{quote_schema_name(name)}.{connection.ops.quote_name(table)}" for (table,) in cursor.fetchall()]
        if tables:
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
