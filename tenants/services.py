"""Provisioning: the one way a studio comes to exist (management command, platform API and admin all call it)."""

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import quote_schema_name, schema_context, schema_exists, tenant_context

from shared_apps.accounts.models import Role, User, UserManager
from shared_apps.accounts.services import staff_invite, user_create
from shared_apps.core.exceptions import ValidationFailed
from shared_apps.core.validators import validate_name
from tenants.models import Domain, Studio, schema_name_for
from tenants.selectors import normalise_host


def _studio_build(*, name, slug, timezone, theme, currency, brand_color) -> tuple[Studio, str]:
    studio = Studio(
        name=(name or "").strip(),
        slug=slug,
        schema_name=schema_name_for(slug or ""),
        timezone=timezone,
        theme=theme or settings.DEFAULT_THEME,
        currency=currency,
        brand_color=brand_color,
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
    **_ignored,
) -> None:
    """Every check that can fail runs before the schema exists, so a refusal leaves nothing behind."""
    studio, domain = _studio_build(
        name=name, slug=slug, timezone=timezone, theme=theme, currency=currency, brand_color=brand_color
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
) -> Studio:
    """Create a studio: its row, a schema cloned from the template, its primary domain and its owner.

    All in one transaction (PostgreSQL DDL is transactional): if any step fails, no schema, domain or row stays.
    Without a password the owner is mailed a link to choose one.
    """
    if connection.schema_name != "public":
        raise RuntimeError("Studios are created from the public schema.")
    fields = {"timezone": timezone, "theme": theme, "currency": currency, "brand_color": brand_color}
    studio_validate(name=name, slug=slug, owner_email=owner_email, owner_password=owner_password, **fields)
    studio, domain = _studio_build(name=name, slug=slug, **fields)
    owner_email = UserManager.normalize_email(owner_email)

    try:
        # Two requests for one slug both pass validation; the unique indexes let only one of them through.
        with transaction.atomic():
            studio.save(verbosity=0)
            # Stored as the host middleware compares it: lower-case, no trailing dot.
            Domain.objects.create(domain=normalise_host(domain), tenant=studio, is_primary=True)
    except IntegrityError as error:
        raise ValidationFailed(fields={"slug": ["A studio with this slug already exists."]}) from error
    with tenant_context(studio):
        owner_fields = {"email": owner_email, "first_name": owner_first_name, "last_name": owner_last_name}
        if owner_password:
            user_create(**owner_fields, password=owner_password, role=Role.OWNER)
        else:
            staff_invite(**owner_fields, role=Role.OWNER)
    return studio


@transaction.atomic
def studio_suspend(*, studio: Studio) -> Studio:
    """Every page and API call of the studio answers 403 from now on; nothing is deleted."""
    studio.status = Studio.Status.SUSPENDED
    studio.save(update_fields=["status", "updated"])
    return studio


@transaction.atomic
def studio_activate(*, studio: Studio) -> Studio:
    studio.status = Studio.Status.ACTIVE
    studio.save(update_fields=["status", "updated"])
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
