"""Helpers for the booking tests: times in London, a package sold to Cleo, bookings made through the service,
and the callers of the permission matrix."""

from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role
from tenant_apps.bookings import services
from tenant_apps.packages import services as package_services
from tests.conftest import api_client, make_user, next_monday, token_of
from tests.factories import SessionPackageFactory, TrainerFactory, WindowFactory

LONDON = ZoneInfo("Europe/London")


def at(day, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=LONDON)


def sell(client, **package_fields):
    return package_services.package_assign(
        package=SessionPackageFactory(**package_fields),
        client=client,
        payment_method="cash",
        amount_paid=Decimal("100"),
    )


def ledger(studio, client_package) -> tuple[int, list[tuple]]:
    """The balance and the ledger (kind, delta, booking, round) of one package; the two always agree."""
    with tenant_context(studio):
        client_package.refresh_from_db()
        rows = list(client_package.transactions.values_list("kind", "delta", "booking", "booking_round"))
        assert sum(row[1] for row in rows) == client_package.sessions_remaining
        return client_package.sessions_remaining, rows


@pytest.fixture
def make_booking(studio_a, schedule_a, booking_client_a):
    """make_booking(clock="10:00", day=next Monday, **service kwargs) → a booking of Cleo with Tess."""
    trainer, session_type = schedule_a

    def build(clock="10:00", day=None, **fields):
        fields.setdefault("client", booking_client_a)
        with tenant_context(studio_a):
            return services.booking_create(
                trainer=fields.pop("trainer", trainer),
                session_type=fields.pop("session_type", session_type),
                start_time=at(day or next_monday(), clock),
                **fields,
            )

    return build


@pytest.fixture
def colleague_a(studio_a, schedule_a):
    """Another trainer of studio A (Colin), 09:00-12:00 every day, offering the same session type."""
    _, session_type = schedule_a
    with tenant_context(studio_a):
        colin = TrainerFactory(
            user=make_user(studio_a, role=Role.TRAINER, email="colin@alpha.test"), display_name="Colin Coach"
        )
        for day in range(7):
            WindowFactory(trainer=colin, day_of_week=day, start_time="09:00", end_time="12:00")
        session_type.trainers.add(colin)
    return colin


@pytest.fixture
def callers(studio_a, studio_b, owner_a, manager_a, trainer_a, client_a, colleague_a):
    """The permission matrix: name → API client. The booking under test is Tess's (trainer_a) with Cleo
    (client_a)."""
    other_client = make_user(studio_a, role=Role.CLIENT, email="other-client@alpha.test")
    owner_b = make_user(studio_b, role=Role.OWNER, email="boss@bravo.test")
    host_a, host_b = "alpha.localhost", "bravo.localhost"
    return {
        "owner": api_client(host_a, token_of(owner_a, studio_a)),
        "manager": api_client(host_a, token_of(manager_a, studio_a)),
        "trainer_own": api_client(host_a, token_of(trainer_a, studio_a)),
        "trainer_other": api_client(host_a, token_of(colleague_a.user, studio_a)),
        "client_own": api_client(host_a, token_of(client_a, studio_a)),
        "client_other": api_client(host_a, token_of(other_client, studio_a)),
        "anonymous": api_client(host_a),
        "other_studio": api_client(host_b, token_of(owner_b, studio_b)),
        "token_on_other_studio": api_client(host_b, token_of(owner_a, studio_a)),
    }


# What every staff-only action on Tess's booking answers, by caller (the booking's trainer is staff of it).
STAFF_MATRIX = {
    "owner": 200,
    "manager": 200,
    "trainer_own": 200,
    "trainer_other": 404,  # can't see another trainer's booking
    "client_own": 403,
    "client_other": 404,
    "anonymous": 401,
    "other_studio": 404,
    "token_on_other_studio": 401,
}
