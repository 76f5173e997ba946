"""POST /api/packages/{id}/assign/: a sale is recorded, its credits arrive through one purchase ledger row, the
expiry date is counted in the studio's days, and bad input writes nothing."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenant_apps.packages.models import ClientPackage, CreditTransaction
from tests.factories import ClientFactory, SessionPackageFactory
from tests.packages.conftest import ledger_sum

pytestmark = pytest.mark.django_db


def url(package) -> str:
    return f"/api/packages/{package.pk}/assign/"


def sales(studio) -> int:
    with tenant_context(studio):
        return ClientPackage.objects.count() + CreditTransaction.objects.count()


@pytest.fixture
def buyer(studio_a):
    with tenant_context(studio_a):
        return ClientFactory(first_name="Bea", last_name="Buyer")


def test_a_manager_sells_a_package(as_user, manager_a, studio_a, package_a, buyer):
    response = as_user(manager_a).post(
        url(package_a), {"client": buyer.pk, "payment_method": "card", "amount_paid": "280.00"}
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    with tenant_context(studio_a):
        sold = ClientPackage.objects.get()
        purchase_day = sold.purchased_at.astimezone(ZoneInfo("Europe/London")).date()
        assert (sold.client_id, sold.package_id, sold.sessions_remaining) == (buyer.pk, package_a.pk, 10)
        assert (sold.amount_paid, sold.currency, sold.payment_method) == (280, "GBP", "card")
        assert sold.sold_by == manager_a
        assert sold.status == "active"
        assert list(sold.transactions.values_list("kind", "delta", "actor")) == [("purchase", 10, manager_a.pk)]
        assert ledger_sum(sold) == sold.sessions_remaining
    assert {key: body[key] for key in ("id", "client", "package", "sold_by", "sessions_remaining", "status")} == {
        "id": sold.pk,
        "client": buyer.pk,
        "package": package_a.pk,
        "sold_by": manager_a.pk,
        "sessions_remaining": 10,
        "status": "active",
    }
    assert date.fromisoformat(body["expiry_date"]) == purchase_day + timedelta(days=90)
    assert abs(sold.purchased_at - timezone.now()) < timedelta(minutes=1)


def test_the_expiry_date_counts_from_the_purchase_day_in_the_studio_s_zone(as_user, manager_a, studio_a, buyer):
    with tenant_context(studio_a):
        month = SessionPackageFactory(validity_days=30)

    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST): the studio's purchase day is 1 July.
    response = as_user(manager_a).post(
        url(month),
        {"client": buyer.pk, "payment_method": "cash", "amount_paid": "50", "purchased_at": "2025-06-30T23:30:00Z"},
    )

    assert response.status_code == 201, response.json()
    assert response.json()["expiry_date"] == "2025-07-31"
    assert response.json()["purchased_at"] == "2025-06-30T23:30:00Z"


def test_a_complimentary_package_is_free(as_user, manager_a, studio_a, package_a, buyer):
    response = as_user(manager_a).post(
        url(package_a), {"client": buyer.pk, "payment_method": "complimentary", "amount_paid": "0"}
    )

    assert response.status_code == 201
    assert response.json()["amount_paid"] == "0.00"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"payment_method": "bitcoin"}, "payment_method"),
        ({"amount_paid": "-1.00"}, "amount_paid"),
        ({"amount_paid": "abc"}, "amount_paid"),
        ({"purchased_at": "2999-01-01T10:00:00Z"}, "purchased_at"),
        ({"purchased_at": "2025-01-01T10:00:00"}, "purchased_at"),  # no offset: which 10:00?
        ({"client": 999999}, "client"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(as_user, manager_a, studio_a, package_a, buyer, change, field):
    body = {"client": buyer.pk, "payment_method": "cash", "amount_paid": "300.00", **change}

    response = as_user(manager_a).post(url(package_a), body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert sales(studio_a) == 0


def test_every_problem_is_reported_at_once(as_user, manager_a, studio_a, package_a, buyer):
    response = as_user(manager_a).post(
        url(package_a),
        {"client": buyer.pk, "payment_method": "iou", "amount_paid": "-5", "purchased_at": "2150-01-01T00:00:00Z"},
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"payment_method", "amount_paid", "purchased_at"}
    assert sales(studio_a) == 0


def test_a_retired_package_is_not_sold(as_user, manager_a, studio_a, buyer):
    with tenant_context(studio_a):
        retired = SessionPackageFactory(is_active=False)

    body = {"client": buyer.pk, "payment_method": "cash", "amount_paid": "1"}

    response = as_user(manager_a).post(url(retired), body)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"package"}
    assert sales(studio_a) == 0


def test_an_inactive_client_is_not_sold_to(as_user, manager_a, studio_a, package_a):
    with tenant_context(studio_a):
        gone = ClientFactory(is_active=False)

    body = {"client": gone.pk, "payment_method": "cash", "amount_paid": "1"}

    response = as_user(manager_a).post(url(package_a), body)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"client"}
    assert sales(studio_a) == 0


def test_an_unknown_package_is_a_404(as_user, manager_a, studio_a, buyer):
    response = as_user(manager_a).post(
        "/api/packages/999999/assign/", {"client": buyer.pk, "payment_method": "cash", "amount_paid": "1"}
    )

    assert response.status_code == 404
    assert sales(studio_a) == 0


def test_selling_twice_gives_two_packages_each_with_its_ledger(as_user, manager_a, studio_a, package_a, buyer):
    body = {"client": buyer.pk, "payment_method": "cash", "amount_paid": "300.00"}

    first = as_user(manager_a).post(url(package_a), body)
    second = as_user(manager_a).post(url(package_a), body)

    assert (first.status_code, second.status_code) == (201, 201)
    with tenant_context(studio_a):
        assert [(cp.sessions_remaining, ledger_sum(cp)) for cp in ClientPackage.objects.all()] == [(10, 10), (10, 10)]
