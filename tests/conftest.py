"""Two studios are created once per session (schemas cloned from the template); every test runs in a
transaction that is rolled back, so the studios stay empty between tests."""

import threading
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.db import connection, connections
from django_tenants.utils import schema_context, tenant_context
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from shared_apps.accounts.models import Role
from tenants.models import Studio
from tenants.services import studio_create
from tests.factories import PASSWORD, UserFactory

PLATFORM_HOST = "localhost"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), schema_context("public"):
        for slug, name, theme in (("alpha", "Alpha Strength", "classic"), ("bravo", "Bravo Yoga", "midnight")):
            studio_create(
                name=name,
                slug=slug,
                owner_email=f"owner@{slug}.test",
                owner_password=PASSWORD,
                theme=theme,
                timezone="Europe/London",
            )


@pytest.fixture(scope="session")
def studio_a(django_db_setup, django_db_blocker) -> Studio:
    with django_db_blocker.unblock(), schema_context("public"):
        return Studio.objects.get(slug="alpha")


@pytest.fixture(scope="session")
def studio_b(django_db_setup, django_db_blocker) -> Studio:
    with django_db_blocker.unblock(), schema_context("public"):
        return Studio.objects.get(slug="bravo")


@pytest.fixture(autouse=True, scope="module")
def _outbox_left_behind(django_db_setup, django_db_blocker):
    """After each module, the outbox rows its committed writes left (threads' bookings, live servers')."""
    yield
    from tests.live import forget_outbox

    with django_db_blocker.unblock():
        forget_outbox()


@pytest.fixture(autouse=True)
def _isolation():
    """Start every test in the public schema with an empty cache (throttles, host lookups)."""
    cache.clear()
    connection.set_schema_to_public()
    yield
    cache.clear()
    connection.set_schema_to_public()


def host_of(studio: Studio) -> str:
    return f"{studio.slug}.localhost"


def api_client(host: str, token: str | None = None) -> APIClient:
    client = APIClient(HTTP_HOST=host)
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def token_of(user, studio: Studio | None = None) -> str:
    if studio is None:
        with schema_context("public"):
            return Token.objects.get_or_create(user=user)[0].key
    with tenant_context(studio):
        return Token.objects.get_or_create(user=user)[0].key


def make_user(studio: Studio | None, **fields):
    if studio is None:
        with schema_context("public"):
            return UserFactory(**fields)
    with tenant_context(studio):
        return UserFactory(**fields)


@pytest.fixture
def anon_a(db, studio_a) -> APIClient:
    return api_client(host_of(studio_a))


@pytest.fixture
def anon_b(db, studio_b) -> APIClient:
    return api_client(host_of(studio_b))


@pytest.fixture
def platform_client(db) -> APIClient:
    return api_client(PLATFORM_HOST)


@pytest.fixture
def owner_a(db, studio_a):
    with tenant_context(studio_a):
        from shared_apps.accounts.models import User

        return User.objects.get(email="owner@alpha.test")


@pytest.fixture
def manager_a(db, studio_a):
    return make_user(studio_a, role=Role.MANAGER, email="manager@alpha.test")


@pytest.fixture
def trainer_a(db, studio_a):
    return make_user(studio_a, role=Role.TRAINER, email="trainer@alpha.test")


@pytest.fixture
def client_a(db, studio_a):
    return make_user(studio_a, role=Role.CLIENT, email="client@alpha.test")


@pytest.fixture
def client_b(db, studio_b):
    return make_user(studio_b, role=Role.CLIENT, email="client@bravo.test")


@pytest.fixture
def platform_admin(db):
    """A platform admin with an authenticator app set up, as every platform account must have."""
    admin = make_user(None, email="admin@platform.test", is_staff=True, is_superuser=True, role=Role.OWNER)
    with schema_context("public"):
        totp_enable(admin)
    return admin


TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_enable(user, secret: str = TOTP_SECRET) -> None:
    """Set up an authenticator app (and recovery codes) for ``user``, in the current schema."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)


def totp_code(secret: str = TOTP_SECRET, *, steps_ahead: int = 0) -> str:
    """The code the authenticator app shows now (or ``steps_ahead`` periods from now)."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    if time.time() % 30 > 29:  # the server would check it in the next period, which refuses it: wait a moment
        time.sleep(30 - time.time() % 30 + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + steps_ahead))


@pytest.fixture
def as_user(studio_a):
    """as_user(user, studio) → an API client on that studio's host, authenticated by the user's token."""

    def build(user, studio: Studio | None = None) -> APIClient:
        studio = studio or studio_a
        return api_client(host_of(studio), token_of(user, studio))

    return build


def run_in_threads(count: int, target: Callable[[int], object]) -> list:
    """Run ``target(i)`` in ``count`` threads at once, each on its own database connection; return results.

    The threads commit for real (outside the test's transaction), so callers clean up after them.
    """
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = target(index)
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def run_committed(fn: Callable[[], object]):
    """Run ``fn`` on a connection of its own, committed at once (cleanup after race tests)."""
    return run_in_threads(1, lambda _index: fn())[0]


def pytest_sessionfinish(session, exitstatus):
    """A test run that had to start the embedded database stops it again; one it found running stays."""
    from config import embedded_db

    cluster = embedded_db._project_cluster
    if cluster is not None and cluster.started_here:
        cluster.stop()


# -- scheduling ------------------------------------------------------------------------------------------


def next_monday(weeks_ahead: int = 1):
    """A Monday at least a week from today, so that notice and horizon rules don't get in the way."""
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.now().date()
    return today + timedelta(days=7 * weeks_ahead - today.weekday())


@pytest.fixture
def schedule_a(db, studio_a, trainer_a):
    """Studio A's trainer (London) with 09:00-12:00 every day and a 60-minute session type they offer."""
    from tests.factories import SessionTypeFactory, TrainerFactory, WindowFactory

    with tenant_context(studio_a):
        trainer = TrainerFactory(user=trainer_a, display_name="Tess Trainer", timezone="Europe/London")
        for day in range(7):
            WindowFactory(trainer=trainer, day_of_week=day, start_time="09:00", end_time="12:00")
        session_type = SessionTypeFactory(name="PT 60", trainers=[trainer], cancellation_window_hours=24)
    return trainer, session_type


@pytest.fixture
def booking_client_a(db, studio_a, client_a):
    """The Client record of studio A's client user."""
    from tests.factories import ClientFactory

    with tenant_context(studio_a):
        return ClientFactory(email=client_a.email, first_name="Cleo", user=client_a)
