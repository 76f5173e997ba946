"""The bookings migration that gave bookings their payment state: old bookings get the state a new one would."""

import importlib

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import tenant_context

from tenant_apps.bookings.models import Booking
from tests.bookings.conftest import sell
from tests.factories import ClientFactory, SessionTypeFactory

pytestmark = pytest.mark.django_db

MIGRATION = ("bookings", "0004_payment_state_and_cancellation")
migration = importlib.import_module(f"tenant_apps.{MIGRATION[0]}.migrations.{MIGRATION[1]}")


def _run_backfill() -> None:
    """Run the migration's function as migrate_schemas would: with the historical models of that migration, on
    the connection's current schema."""
    historical_apps = MigrationLoader(connection).project_state(MIGRATION).apps
    with connection.schema_editor() as schema_editor:
        migration.backfill(historical_apps, schema_editor)


def test_old_bookings_get_the_payment_state_a_new_booking_would(studio_a, schedule_a, make_booking, booking_client_a):
    trainer, _ = schedule_a
    with tenant_context(studio_a):
        free = SessionTypeFactory(name="Intro", price=0, trainers=[trainer])
        pack = sell(booking_client_a)
        someone = ClientFactory()
    by_credit = make_booking(clock="09:00", client_package=pack)
    priced = make_booking(clock="10:00", client=someone)
    taster = make_booking(clock="11:00", session_type=free, client=someone)
    # Before the migration every booking read "unpaid", the column's default (the one paid by a credit too, but
    # today's constraint ties "credit" to its package, so that row can't be put back as it was).
    with tenant_context(studio_a):
        Booking.objects.filter(client_package__isnull=True).update(payment_state="unpaid")

        _run_backfill()

        states = dict(Booking.objects.values_list("pk", "payment_state"))
    assert states == {by_credit.pk: "credit", priced.pk: "unpaid", taster.pk: "complimentary"}
