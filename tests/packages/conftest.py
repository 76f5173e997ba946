from datetime import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from tenant_apps.packages import services
from tenant_apps.packages.models import ClientPackage
from tests.factories import SessionPackageFactory


def sell(package, client, *, sold_by=None, purchased_at: datetime | None = None, **fields) -> ClientPackage:
    """Sell ``package`` to ``client`` through the service; call inside the studio's tenant_context."""
    return services.package_assign(
        package=package,
        client=client,
        payment_method=fields.pop("payment_method", "cash"),
        amount_paid=fields.pop("amount_paid", Decimal("300.00")),
        purchased_at=purchased_at,
        sold_by=sold_by,
    )


def ledger_sum(client_package: ClientPackage) -> int:
    return sum(client_package.transactions.values_list("delta", flat=True))


def queries_for(call) -> int:
    """Queries one request takes, measured after a first one has warmed the caches (host, token)."""
    call()
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200, response.json()
    return len(captured)


@pytest.fixture
def package_a(db, studio_a):
    """Ten sessions for 90 days, every session type, in studio A."""
    with tenant_context(studio_a):
        return SessionPackageFactory(name="Ten pack", sessions_count=10, validity_days=90)
