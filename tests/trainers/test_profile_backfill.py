"""The data migration giving trainer-role accounts invited before profiles came with the role their profile."""

import importlib

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import RunPython
from django_tenants.utils import schema_context, tenant_context

from shared_apps.accounts.models import Role, User
from tenant_apps.trainers.models import Trainer
from tenants.models import Studio
from tests.conftest import make_user
from tests.factories import TrainerFactory

pytestmark = pytest.mark.django_db

MIGRATION = ("trainers", "0005_trainer_profiles_for_trainer_accounts")
backfill = importlib.import_module(f"tenant_apps.{MIGRATION[0]}.migrations.{MIGRATION[1]}")


def _run_backfill() -> None:
    """Run the migration's function as migrate_schemas would: with the historical models of that migration, on
    the connection's current schema."""
    historical_apps = MigrationLoader(connection).project_state(MIGRATION).apps
    with connection.schema_editor() as schema_editor:
        backfill.trainer_profiles_for_trainer_accounts(historical_apps, schema_editor)


def test_active_trainer_accounts_without_a_profile_get_one_in_the_studios_timezone(studio_a):
    named = make_user(studio_a, role=Role.TRAINER, email="named@alpha.test", first_name="Nia", last_name="Long")
    unnamed = make_user(studio_a, role=Role.TRAINER, email="coach.kim@alpha.test", first_name="", last_name="")
    long_named = make_user(
        studio_a, role=Role.TRAINER, email="long@alpha.test", first_name="A" * 100, last_name="B" * 100
    )
    make_user(studio_a, role=Role.TRAINER, email="gone@alpha.test", is_active=False)
    make_user(studio_a, role=Role.MANAGER, email="manager@alpha.test")
    make_user(studio_a, role=Role.CLIENT, email="client@alpha.test")

    with tenant_context(studio_a):
        _run_backfill()

        profiles = {trainer.user.email: trainer for trainer in Trainer.objects.select_related("user")}
        assert set(profiles) == {named.email, unnamed.email, long_named.email}
        assert profiles[named.email].display_name == "Nia Long"
        assert profiles[unnamed.email].display_name == "coach.kim"
        assert profiles[long_named.email].display_name == "A" * 100 + " " + "B" * 19
        for trainer in profiles.values():
            assert trainer.timezone == "Europe/London"
            assert trainer.is_active
            assert trainer.total_sessions == 0
            # What the trainers service would accept as a profile of its own.
            trainer.full_clean()


def test_an_existing_profile_is_kept_and_a_second_run_creates_nothing(studio_a):
    existing = TrainerFactory.build(display_name="Keep Me", timezone="America/New_York", bio="Strength coach")
    with tenant_context(studio_a):
        existing.user.save()
        existing.save()
        make_user(studio_a, role=Role.TRAINER, email="new@alpha.test")

        _run_backfill()
        _run_backfill()

        assert Trainer.objects.count() == 2
        assert Trainer.objects.filter(user__email="new@alpha.test").count() == 1
        existing.refresh_from_db()
        assert (existing.display_name, existing.timezone, existing.bio) == (
            "Keep Me",
            "America/New_York",
            "Strength coach",
        )


def test_under_migrate_schemas_the_timezone_comes_from_the_studios_row(studio_a):
    # migrate_schemas sets a FakeTenant that knows only the schema name: the studio's row is read from public.
    with schema_context("public"):
        Studio.objects.filter(pk=studio_a.pk).update(timezone="America/Chicago")
    make_user(studio_a, role=Role.TRAINER, email="chicago@alpha.test")

    with schema_context(studio_a.schema_name):
        assert not isinstance(connection.tenant, Studio)
        _run_backfill()
        assert Trainer.objects.get(user__email="chicago@alpha.test").timezone == "America/Chicago"


def test_a_schema_without_a_studio_row_falls_back_to_utc():
    historical_apps = MigrationLoader(connection).project_state(MIGRATION).apps

    with schema_context(settings.TENANT_BASE_SCHEMA):
        assert backfill.studio_timezone_of(historical_apps, connection) == "UTC"


def test_the_other_studio_is_left_alone(studio_a, studio_b):
    make_user(studio_b, role=Role.TRAINER, email="trainer@bravo.test")

    with tenant_context(studio_a):
        _run_backfill()

    with tenant_context(studio_b):
        assert User.objects.filter(email="trainer@bravo.test").exists()
        assert not Trainer.objects.exists()


def test_the_migration_is_applied_to_studios_and_goes_backwards_as_a_no_op(studio_a):
    (operation,) = backfill.Migration.operations

    assert isinstance(operation, RunPython)
    assert operation.reversible
    assert operation.reverse_code is RunPython.noop
    with tenant_context(studio_a), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM django_migrations WHERE app = %s AND name = %s", list(MIGRATION))
        assert cursor.fetchone() is not None
