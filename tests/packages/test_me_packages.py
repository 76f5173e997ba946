"""/api/me/packages/: a client's own packages, credits left, expiry, status and ledger, without their client id."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role
from tenant_apps.packages import services
from tests.conftest import api_client, host_of, make_user, token_of
from tests.factories import ClientFactory, SessionPackageFactory
from tests.packages.conftest import queries_for, sell

pytestmark = pytest.mark.django_db
URL = "/api/me/packages/"


def test_a_client_reads_their_own_packages_expiring_first(
    as_user, client_a, manager_a, studio_a, booking_client_a, package_a
):
    with tenant_context(studio_a):
        later = sell(package_a, booking_client_a, sold_by=manager_a)
        # Bought long ago: past its last day, though the expiry run hasn't marked it yet.
        lapsed = sell(
            SessionPackageFactory(name="Old pack", validity_days=30),
            booking_client_a,
            purchased_at=timezone.now() - timedelta(days=60),
        )
        spent = sell(SessionPackageFactory(name="Used up", sessions_count=1, validity_days=45), booking_client_a)
        services.client_package_adjust(client_package=spent, delta=-1, reason="Used at the door", actor=manager_a)
        sell(package_a, ClientFactory())  # someone else's

    response = as_user(client_a).get(URL)

    assert response.status_code == 200, response.json()
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [lapsed.pk, spent.pk, later.pk]
    assert {row["client"] for row in rows} == {booking_client_a.pk}
    assert [(row["package_name"], row["sessions_remaining"], row["status"], row["is_usable"]) for row in rows] == [
        ("Old pack", 10, "active", False),
        ("Used up", 0, "active", False),
        ("Ten pack", 10, "active", True),
    ]
    assert rows[2]["expiry_date"] == later.expiry_date.isoformat()
    assert [(move["kind"], move["delta"]) for move in rows[1]["transactions"]] == [
        ("purchase", 1),
        ("adjustment", -1),
    ]


def test_the_list_is_paged_and_takes_as_many_queries_for_many_as_for_one(
    as_user, client_a, studio_a, booking_client_a, package_a
):
    with tenant_context(studio_a):
        sell(package_a, booking_client_a)
    api = as_user(client_a)
    one = queries_for(lambda: api.get(URL))
    with tenant_context(studio_a):
        for _ in range(3):
            sell(SessionPackageFactory(), booking_client_a)

    assert queries_for(lambda: api.get(URL)) == one
    page = api.get(URL, {"page_size": 3}).json()
    assert (page["count"], len(page["results"]), page["next"] is not None) == (4, 3, True)


def test_another_client_sees_only_their_own(as_user, studio_a, booking_client_a, package_a):
    someone = make_user(studio_a, role=Role.CLIENT, email="sam@alpha.test")
    with tenant_context(studio_a):
        sell(package_a, booking_client_a)
        theirs = sell(package_a, ClientFactory(email=someone.email, user=someone))

    rows = as_user(someone).get(URL).json()["results"]

    assert [row["id"] for row in rows] == [theirs.pk]


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER, Role.TRAINER])
def test_staff_have_no_packages_of_their_own(as_user, studio_a, package_a, role):
    staff = make_user(studio_a, role=role, email=f"{role}.me@alpha.test")
    with tenant_context(studio_a):
        sell(package_a, ClientFactory(email=staff.email))  # even under the same address

    response = as_user(staff).get(URL)

    assert response.status_code == 404
    assert response.json()["code"] == "not_a_client"


def test_a_client_account_without_a_record_gets_a_clear_404(as_user, client_a, studio_a, package_a):
    with tenant_context(studio_a):
        sell(package_a, ClientFactory(email=client_a.email))  # not linked until the address is confirmed

    response = as_user(client_a).get(URL)

    assert response.status_code == 404
    assert response.json()["code"] == "no_client_profile"


def test_anonymous_is_refused(anon_a):
    assert anon_a.get(URL).status_code == 401


def test_another_studio_s_token_means_nothing_here(studio_a, studio_b, client_b, booking_client_a, package_a):
    with tenant_context(studio_a):
        sell(package_a, booking_client_a)
    with tenant_context(studio_b):
        ClientFactory(email=client_b.email, user=client_b)
    token_b = token_of(client_b, studio_b)

    assert api_client(host_of(studio_b), token_b).get(URL).json()["results"] == []
    assert api_client(host_of(studio_a), token_b).get(URL).status_code == 401
