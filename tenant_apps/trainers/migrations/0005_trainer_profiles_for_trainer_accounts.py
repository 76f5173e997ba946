"""Trainer-role accounts invited before every trainer got a profile (POST /api/staff/ made none) can't be
booked: give each active one the profile trainers.services.trainer_profile_ensure would have made."""

from django.db import migrations
from django_tenants.models import TenantMixin

# The model's bound when this migration was written (shared_apps.core.validators.TITLE_MAX_LENGTH); a first and
# a last name may be longer together.
DISPLAY_NAME_MAX_LENGTH = 120


def studio_timezone_of(apps, connection) -> str:
    """The timezone of the studio whose schema is being migrated; "UTC" where there is none (the template)."""
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, TenantMixin):
        return tenant.timezone
    # migrate_schemas sets a FakeTenant that knows only the schema's name: the studio's row is in the public
    # schema, which is on the search path while a studio's schema is migrated.
    Studio = apps.get_model("tenants", "Studio")
    timezone = (
        Studio.objects.using(connection.alias)
        .filter(schema_name=connection.schema_name)
        .values_list("timezone", flat=True)
        .first()
    )
    return timezone or "UTC"


def trainer_profiles_for_trainer_accounts(apps, schema_editor) -> None:
    """A profile for every active trainer-role account that has none, with trainer_profile_ensure's defaults:
    named after the account (or the address's local part), in the studio's timezone, taking bookings."""
    User = apps.get_model("accounts", "User")
    Trainer = apps.get_model("trainers", "Trainer")
    connection = schema_editor.connection
    accounts = (
        User.objects.using(connection.alias)
        .filter(role="trainer", is_active=True)
        .exclude(pk__in=Trainer.objects.using(connection.alias).values("user_id"))
        .order_by("pk")
    )
    timezone = None
    profiles = []
    for user in accounts:
        timezone = timezone or studio_timezone_of(apps, connection)
        full_name = f"{user.first_name} {user.last_name}".strip()
        display_name = (full_name or user.email.split("@")[0])[:DISPLAY_NAME_MAX_LENGTH].strip()
        profiles.append(Trainer(user=user, display_name=display_name, timezone=timezone, is_active=True))
    # A profile made meanwhile by the running application (one per account: a unique column) is kept as it is.
    Trainer.objects.using(connection.alias).bulk_create(profiles, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_user_session_revision"),
        ("tenants", "0006_studio_settings"),
        ("trainers", "0004_session_type_policy_and_color"),
    ]

    operations = [
        # Backwards, the profiles stay: by then they may carry availability and bookings.
        migrations.RunPython(trainer_profiles_for_trainer_accounts, migrations.RunPython.noop),
    ]
