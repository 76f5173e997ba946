"""Manual corrections (POST /api/clients/{id}/packages/{cp_id}/adjust/) and expiry (the service, the per-studio
task and the fan-out beat runs)."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from config.celery import app
from tenant_apps.packages import services, tasks
from tenant_apps.packages.models import ClientPackage, CreditTransaction
from tests.factories import ClientFactory, SessionPackageFactory
from tests.packages.conftest import ledger_sum, sell

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def adjust_url(client_package) -> str:
    return f"/api/clients/{client_package.client_id}/packages/{client_package.pk}/adjust/"


@pytest.fixture
def sold(studio_a, package_a, booking_client_a):
    with tenant_context(studio_a):
        return sell(package_a, booking_client_a)


def balance_and_ledger(studio, client_package) -> tuple[int, list[tuple]]:
    with tenant_context(studio):
        client_package.refresh_from_db()
        ledger = list(client_package.transactions.values_list("kind", "delta"))
        assert ledger_sum(client_package) == client_package.sessions_remaining
        return client_package.sessions_remaining, ledger


def today_in(studio):
    return timezone.now().astimezone(ZoneInfo(studio.timezone)).date()


# -- adjustments ------------------------------------------------------------------------------------------


def test_a_manager_adds_credits_with_a_reason(as_user, manager_a, studio_a, sold):
    response = as_user(manager_a).post(adjust_url(sold), {"delta": 2, "reason": "Missed sessions, goodwill"})

    assert response.status_code == 200, response.json()
    assert response.json()["sessions_remaining"] == 12
    assert response.json()["transactions"][-1]["reason"] == "Missed sessions, goodwill"
    assert balance_and_ledger(studio_a, sold) == (12, [("purchase", 10), ("adjustment", 2)])
    with tenant_context(studio_a):
        assert CreditTransaction.objects.get(kind="adjustment").actor == manager_a


def test_a_manager_takes_credits_away_down_to_zero(as_user, manager_a, studio_a, sold):
    response = as_user(manager_a).post(adjust_url(sold), {"delta": -10, "reason": "Refunded in cash"})

    assert response.status_code == 200
    assert balance_and_ledger(studio_a, sold) == (0, [("purchase", 10), ("adjustment", -10)])


def test_below_zero_is_refused_and_nothing_is_written(as_user, manager_a, studio_a, sold):
    response = as_user(manager_a).post(adjust_url(sold), {"delta": -11, "reason": "Typo"})

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_balance"
    assert balance_and_ledger(studio_a, sold) == (10, [("purchase", 10)])


@pytest.mark.parametrize(
    ("body", "field"),
    [({"delta": 0, "reason": "Nothing"}, "delta"), ({"delta": 1, "reason": ""}, "reason"), ({"delta": 1}, "reason")],
)
def test_a_zero_delta_or_a_missing_reason_is_refused(as_user, manager_a, studio_a, sold, body, field):
    response = as_user(manager_a).post(adjust_url(sold), body)

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert balance_and_ledger(studio_a, sold) == (10, [("purchase", 10)])


def test_the_service_refuses_a_blank_reason_too(studio_a, sold, manager_a):
    with tenant_context(studio_a), pytest.raises(services.ValidationFailed) as refused:
        services.client_package_adjust(client_package=sold, delta=1, reason="   ", actor=manager_a)

    assert set(refused.value.fields) == {"reason"}
    assert balance_and_ledger(studio_a, sold) == (10, [("purchase", 10)])


def test_a_package_under_another_client_s_id_is_a_404(as_user, manager_a, studio_a, sold):
    with tenant_context(studio_a):
        other = ClientFactory()

    response = as_user(manager_a).post(
        f"/api/clients/{other.pk}/packages/{sold.pk}/adjust/", {"delta": 1, "reason": "Wrong client"}
    )

    assert response.status_code == 404
    assert balance_and_ledger(studio_a, sold) == (10, [("purchase", 10)])


def test_an_expired_package_is_not_adjusted(as_user, manager_a, studio_a, sold):
    with tenant_context(studio_a):
        ClientPackage.objects.filter(pk=sold.pk).update(expiry_date=today_in(studio_a) - timedelta(days=1))

    response = as_user(manager_a).post(adjust_url(sold), {"delta": 1, "reason": "Late goodwill"})

    assert response.status_code == 409
    assert response.json()["code"] == "package_expired"
    assert balance_and_ledger(studio_a, sold) == (10, [("purchase", 10)])


# -- expiry -----------------------------------------------------------------------------------------------


def test_expiry_takes_the_remaining_credits_of_packages_past_their_last_day(studio_a, package_a):
    with tenant_context(studio_a):
        today = today_in(studio_a)
        past = sell(package_a, ClientFactory())
        last_day_today = sell(package_a, ClientFactory())
        used_up = sell(SessionPackageFactory(sessions_count=1), ClientFactory())
        services.client_package_adjust(client_package=used_up, delta=-1, reason="Used", actor=None)
        ClientPackage.objects.filter(pk__in=[past.pk, used_up.pk]).update(expiry_date=today - timedelta(days=1))
        ClientPackage.objects.filter(pk=last_day_today.pk).update(expiry_date=today)

        changed = services.package_expire_due()

        assert changed == 2
        past.refresh_from_db()
        used_up.refresh_from_db()
        last_day_today.refresh_from_db()
        assert (past.status, past.sessions_remaining) == ("expired", 0)
        assert list(past.transactions.values_list("kind", "delta")) == [("purchase", 10), ("expiry", -10)]
        assert (used_up.status, used_up.sessions_remaining) == ("expired", 0)
        assert not used_up.transactions.filter(kind="expiry").exists()  # nothing left to take: no zero row
        assert (last_day_today.status, last_day_today.sessions_remaining) == ("active", 10)
        for client_package in (past, used_up, last_day_today):
            assert ledger_sum(client_package) == client_package.sessions_remaining


def test_running_expiry_twice_changes_nothing_the_second_time(studio_a, package_a):
    with tenant_context(studio_a):
        past = sell(package_a, ClientFactory())
        ClientPackage.objects.filter(pk=past.pk).update(expiry_date=today_in(studio_a) - timedelta(days=3))
        assert services.package_expire_due() == 1
        ledger = list(CreditTransaction.objects.values_list("pk", "kind", "delta"))
        packages = list(ClientPackage.objects.values_list("pk", "status", "sessions_remaining", "updated"))

        assert services.package_expire_due() == 0

        assert list(CreditTransaction.objects.values_list("pk", "kind", "delta")) == ledger
        assert list(ClientPackage.objects.values_list("pk", "status", "sessions_remaining", "updated")) == packages


def test_expiry_goes_by_the_studio_s_day(studio_a, package_a):
    """A package whose last day is 1 July is still good all of 1 July in London, and gone on the 2nd."""
    with tenant_context(studio_a):
        client_package = sell(package_a, ClientFactory())
        ClientPackage.objects.filter(pk=client_package.pk).update(expiry_date="2025-07-01")

        assert services.package_expire_due(today=date(2025, 7, 1)) == 0
        assert services.package_expire_due(today=date(2025, 7, 2)) == 1


def test_the_task_refuses_to_run_in_the_public_schema(db):
    connection.set_schema_to_public()

    with pytest.raises(RuntimeError, match="studio's schema"):
        tasks.expire_due_packages.apply(throw=True)


def test_the_fan_out_expires_each_studio_s_own_packages(studio_a, studio_b):
    made = {}
    for studio in (studio_a, studio_b):
        with tenant_context(studio):
            package = SessionPackageFactory(sessions_count=4)
            due = sell(package, ClientFactory(email=f"due@{studio.slug}.test"))
            fresh = sell(package, ClientFactory(email=f"fresh@{studio.slug}.test"))
            ClientPackage.objects.filter(pk=due.pk).update(expiry_date=today_in(studio) - timedelta(days=1))
            made[studio.slug] = (due.pk, fresh.pk)

    # Beat queues the fan-out from the public schema; the eager test settings run everything inline.
    with schema_context("public"):
        queued = tasks.expire_due_packages_all_studios.delay().result

    assert queued >= 2
    for studio in (studio_a, studio_b):
        due_pk, fresh_pk = made[studio.slug]
        with tenant_context(studio):
            assert dict(ClientPackage.objects.values_list("pk", "status")) == {due_pk: "expired", fresh_pk: "active"}
            assert list(CreditTransaction.objects.filter(kind="expiry").values_list("client_package", "delta")) == [
                (due_pk, -4)
            ]
            assert {cp.pk: ledger_sum(cp) for cp in ClientPackage.objects.all()} == {due_pk: 0, fresh_pk: 4}
    assert connection.schema_name == "public"


def test_beat_runs_the_fan_out_every_hour():
    [entry] = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"].startswith("packages.")]

    assert entry["task"] == tasks.expire_due_packages_all_studios.name
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 60 * 60
