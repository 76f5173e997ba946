"""The booking's payer lookup (usable_client_package_ids, in SQL) answers as usable_client_packages (the ORM
rule every page uses): same packages, expiring first first, ties by the one sold first."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenant_apps.packages.models import ClientPackage
from tenant_apps.packages.selectors import usable_client_package_ids, usable_client_packages
from tests.factories import ClientFactory, SessionPackageFactory, SessionTypeFactory

pytestmark = pytest.mark.django_db

DAY = date(2027, 3, 10)

sales = st.lists(
    st.fixed_dictionaries(
        {
            "package": st.integers(0, 2),  # covers every type / the first only / the first two
            "client": st.integers(0, 1),  # the client asked about, or another
            "sessions_remaining": st.integers(0, 2),
            "status": st.sampled_from(ClientPackage.Status.values),
            "expiry_offset": st.integers(-2, 2),  # days from DAY; several sales often share one
        }
    ),
    max_size=8,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sales=sales, asked_offset=st.integers(-1, 1))
def test_the_sql_lookup_answers_as_the_orm_rule(studio_a, sales, asked_offset):
    with tenant_context(studio_a), transaction.atomic():
        types = [SessionTypeFactory() for _ in range(3)]
        packages = [
            SessionPackageFactory(),
            SessionPackageFactory(session_types=types[:1]),
            SessionPackageFactory(session_types=types[:2]),
        ]
        clients = [ClientFactory(), ClientFactory()]
        for sale in sales:
            ClientPackage.objects.create(
                client=clients[sale["client"]],
                package=packages[sale["package"]],
                sessions_remaining=sale["sessions_remaining"],
                status=sale["status"],
                purchased_at=timezone.now(),
                expiry_date=DAY + timedelta(days=sale["expiry_offset"]),
                amount_paid=Decimal("100"),
                currency="GBP",
                payment_method="cash",
            )
        on_date = DAY + timedelta(days=asked_offset)
        for session_type in types:
            expected = list(
                usable_client_packages(client=clients[0], session_type=session_type, on_date=on_date)
                .order_by("expiry_date", "id")
                .values_list("pk", flat=True)
            )
            found = usable_client_package_ids(client=clients[0], session_type=session_type, on_date=on_date)
            assert found == expected
        transaction.set_rollback(True)
