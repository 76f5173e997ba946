"""/api/packages/, /api/packages/{id}/, /api/packages/{id}/clients/ and /api/clients/{id}/packages/; the
permission matrix of every packages endpoint, and of /api/clients/{id}/bookings/ as well."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User
from tenant_apps.bookings import services as booking_services
from tenant_apps.packages.models import ClientPackage, CreditTransaction, SessionPackage
from tests.conftest import api_client, host_of, make_user, next_monday, token_of
from tests.factories import (
    ClientFactory,
    SessionPackageFactory,
    SessionTypeFactory,
    TrainerFactory,
    WindowFactory,
)
from tests.packages.conftest import queries_for, sell

pytestmark = pytest.mark.django_db
URL = "/api/packages/"
LONDON = ZoneInfo("Europe/London")


def package_rows(studio) -> list[tuple]:
    with tenant_context(studio):
        return list(SessionPackage.objects.values_list("name", "sessions_count", "price", "is_active"))


# -- create, read, change, deactivate --------------------------------------------------------------------


def test_a_manager_creates_a_package_in_the_studio_currency(as_user, manager_a, studio_a):
    with tenant_context(studio_a):
        pt = SessionTypeFactory(name="PT")

    response = as_user(manager_a).post(
        URL,
        {"name": "Five PT", "sessions_count": 5, "price": "150.00", "validity_days": 60, "session_types": [pt.pk]},
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {key: body[key] for key in ("name", "sessions_count", "price", "currency", "validity_days")} == {
        "name": "Five PT",
        "sessions_count": 5,
        "price": "150.00",
        "currency": studio_a.currency,
        "validity_days": 60,
    }
    assert body["session_types"] == [pt.pk]
    assert body["is_active"] is True
    assert package_rows(studio_a) == [("Five PT", 5, 150, True)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sessions_count", 0),
        ("sessions_count", -3),
        ("price", "0.00"),
        ("price", "-10.00"),
        ("validity_days", 0),
        ("validity_days", -1),
        ("currency", "euro"),
    ],
)
def test_bad_numbers_are_refused_and_nothing_is_written(as_user, manager_a, studio_a, field, value):
    body = {"name": "Bad", "sessions_count": 5, "price": "150.00", "validity_days": 60, field: value}

    response = as_user(manager_a).post(URL, body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert package_rows(studio_a) == []


def test_an_unknown_session_type_is_refused(as_user, manager_a, studio_a):
    body = {"name": "Bad", "sessions_count": 5, "price": "150.00", "validity_days": 60, "session_types": [999999]}

    response = as_user(manager_a).post(URL, body)

    assert response.status_code == 400
    assert "session_types" in response.json()["fields"]
    assert package_rows(studio_a) == []


def test_anyone_reads_packages_on_sale_and_managers_see_retired_ones_too(anon_a, as_user, manager_a, studio_a):
    with tenant_context(studio_a):
        SessionPackageFactory(name="On sale")
        retired = SessionPackageFactory(name="Retired", is_active=False)

    assert [p["name"] for p in anon_a.get(URL).json()["results"]] == ["On sale"]
    assert anon_a.get(f"{URL}{retired.pk}/").status_code == 404
    assert [p["name"] for p in as_user(manager_a).get(URL).json()["results"]] == ["On sale", "Retired"]
    assert as_user(manager_a).get(f"{URL}{retired.pk}/").json()["is_active"] is False


def test_patch_changes_the_package_for_future_sales_only(as_user, manager_a, studio_a, package_a):
    with tenant_context(studio_a):
        sold = sell(package_a, ClientFactory())

    response = as_user(manager_a).patch(f"{URL}{package_a.pk}/", {"sessions_count": 20, "price": "500.00"})

    assert response.status_code == 200, response.json()
    assert (response.json()["sessions_count"], response.json()["price"]) == (20, "500.00")
    with tenant_context(studio_a):
        sold.refresh_from_db()
        assert sold.sessions_remaining == 10


def test_patch_refuses_a_zero_price_and_changes_nothing(as_user, manager_a, studio_a, package_a):
    response = as_user(manager_a).patch(f"{URL}{package_a.pk}/", {"price": "0", "name": "Free"})

    assert response.status_code == 400
    assert "price" in response.json()["fields"]
    assert package_rows(studio_a) == [("Ten pack", 10, 300, True)]


def test_delete_deactivates_and_sold_packages_keep_paying(
    as_user, manager_a, studio_a, package_a, schedule_a, booking_client_a
):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        sold = sell(package_a, booking_client_a)

    response = as_user(manager_a).delete(f"{URL}{package_a.pk}/")

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    with tenant_context(studio_a):
        assert SessionPackage.objects.get().is_active is False
        booking = booking_services.booking_create(
            trainer=trainer,
            client=booking_client_a,
            session_type=session_type,
            start_time=datetime.combine(next_monday(), time(10), tzinfo=LONDON),
        )
        sold.refresh_from_db()
        assert booking.client_package_id == sold.pk
        assert sold.sessions_remaining == 9


# -- who bought it, and a client's packages --------------------------------------------------------------


def test_package_clients_lists_the_sales_with_balances(as_user, manager_a, studio_a, package_a):
    with tenant_context(studio_a):
        ann = sell(package_a, ClientFactory(first_name="Ann", last_name="A"))
        sell(SessionPackageFactory(), ClientFactory(first_name="Bob"))  # another package's sale

    response = as_user(manager_a).get(f"{URL}{package_a.pk}/clients/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(row["id"], row["client_name"], row["sessions_remaining"]) for row in rows] == [(ann.pk, "Ann A", 10)]


def test_package_clients_takes_as_many_queries_for_many_sales_as_for_one(as_user, manager_a, studio_a, package_a):
    with tenant_context(studio_a):
        sell(package_a, ClientFactory())
    manager = as_user(manager_a)
    one = queries_for(lambda: manager.get(f"{URL}{package_a.pk}/clients/"))
    with tenant_context(studio_a):
        for _ in range(4):
            sell(package_a, ClientFactory())

    assert queries_for(lambda: manager.get(f"{URL}{package_a.pk}/clients/")) == one


def test_a_client_s_packages_come_with_balances_and_ledgers(
    as_user, manager_a, studio_a, package_a, schedule_a, booking_client_a
):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        sold = sell(package_a, booking_client_a, sold_by=manager_a)
        booking = booking_services.booking_create(
            trainer=trainer,
            client=booking_client_a,
            session_type=session_type,
            start_time=datetime.combine(next_monday(), time(10), tzinfo=LONDON),
        )

    response = as_user(manager_a).get(f"/api/clients/{booking_client_a.pk}/packages/")

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["id"], row["sessions_remaining"], row["package_name"]) == (sold.pk, 9, "Ten pack")
    assert [(move["kind"], move["delta"], move["booking"]) for move in row["transactions"]] == [
        ("purchase", 10, None),
        ("booking", -1, booking.pk),
    ]
    assert row["transactions"][0]["actor"] == manager_a.pk


def test_a_client_s_packages_take_as_many_queries_for_many_as_for_one(
    as_user, manager_a, studio_a, package_a, booking_client_a
):
    url = f"/api/clients/{booking_client_a.pk}/packages/"
    with tenant_context(studio_a):
        sell(package_a, booking_client_a)
    manager = as_user(manager_a)
    one = queries_for(lambda: manager.get(url))
    with tenant_context(studio_a):
        for _ in range(3):
            sell(SessionPackageFactory(), booking_client_a)

    assert queries_for(lambda: manager.get(url)) == one


def test_a_trainer_sees_the_packages_of_a_client_they_train(as_user, trainer_a, studio_a, schedule_a, package_a):
    trainer, _ = schedule_a
    with tenant_context(studio_a):
        trained = ClientFactory(primary_trainer=trainer)
        sell(package_a, trained)
        stranger = ClientFactory()
        sell(package_a, stranger)

    assert as_user(trainer_a).get(f"/api/clients/{trained.pk}/packages/").status_code == 200
    assert as_user(trainer_a).get(f"/api/clients/{stranger.pk}/packages/").status_code == 404


def test_a_client_sees_their_own_packages_only(as_user, client_a, studio_a, booking_client_a, package_a):
    with tenant_context(studio_a):
        sell(package_a, booking_client_a)
        other = ClientFactory()
        sell(package_a, other)

    assert len(as_user(client_a).get(f"/api/clients/{booking_client_a.pk}/packages/").json()["results"]) == 1
    assert as_user(client_a).get(f"/api/clients/{other.pk}/packages/").status_code == 404


# -- a client's bookings ---------------------------------------------------------------------------------


def test_a_client_s_bookings_newest_first_in_as_many_queries_for_many_as_for_one(
    as_user, manager_a, studio_a, schedule_a, booking_client_a
):
    trainer, session_type = schedule_a
    url = f"/api/clients/{booking_client_a.pk}/bookings/"

    def book(day_offset):
        with tenant_context(studio_a):
            return booking_services.booking_create(
                trainer=trainer,
                client=booking_client_a,
                session_type=session_type,
                start_time=datetime.combine(next_monday() + timedelta(days=day_offset), time(10), tzinfo=LONDON),
            )

    first = book(0)
    with tenant_context(studio_a):
        book_other = booking_services.booking_create(
            trainer=trainer,
            client=ClientFactory(),
            session_type=session_type,
            start_time=datetime.combine(next_monday(), time(11), tzinfo=LONDON),
        )
    manager = as_user(manager_a)
    one = queries_for(lambda: manager.get(url))
    later = [book(offset) for offset in (1, 2, 3)]

    assert queries_for(lambda: manager.get(url)) == one
    ids = [row["id"] for row in manager.get(url).json()["results"]]
    assert ids == [booking.pk for booking in reversed([first, *later])]
    assert book_other.pk not in ids


def test_a_trainer_sees_only_their_own_sessions_with_a_client(as_user, studio_a, schedule_a, booking_client_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        colleague = TrainerFactory(display_name="Colleague")
        WindowFactory(trainer=colleague, day_of_week=next_monday().weekday(), start_time="09:00", end_time="12:00")
        session_type.trainers.add(colleague)
        mine = booking_services.booking_create(
            trainer=trainer,
            client=booking_client_a,
            session_type=session_type,
            start_time=datetime.combine(next_monday(), time(10), tzinfo=LONDON),
        )
        booking_services.booking_create(
            trainer=colleague,
            client=booking_client_a,
            session_type=session_type,
            start_time=datetime.combine(next_monday(), time(11), tzinfo=LONDON),
        )

    response = as_user(trainer.user).get(f"/api/clients/{booking_client_a.pk}/bookings/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]


# -- the permission matrix --------------------------------------------------------------------------------


@pytest.fixture
def world(studio_a, package_a, booking_client_a, schedule_a):
    """A package sold to studio A's client, and a booking of theirs with schedule_a's trainer (paid by it)."""
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client_package = sell(package_a, booking_client_a)
        booking_services.booking_create(
            trainer=trainer,
            client=booking_client_a,
            session_type=session_type,
            start_time=datetime.combine(next_monday(), time(10), tzinfo=LONDON),
        )
        return {"package": package_a.pk, "client": booking_client_a.pk, "client_package": client_package.pk}


ENDPOINTS = {
    "list packages": ("get", lambda w: URL, None),
    "create package": ("post", lambda w: URL, {"name": "New", "sessions_count": 1, "price": "9", "validity_days": 9}),
    "read package": ("get", lambda w: f"{URL}{w['package']}/", None),
    "change package": ("patch", lambda w: f"{URL}{w['package']}/", {"name": "Renamed"}),
    "deactivate package": ("delete", lambda w: f"{URL}{w['package']}/", None),
    "package clients": ("get", lambda w: f"{URL}{w['package']}/clients/", None),
    "assign package": (
        "post",
        lambda w: f"{URL}{w['package']}/assign/",
        lambda w: {"client": w["client"], "payment_method": "cash", "amount_paid": "300.00"},
    ),
    "client packages": ("get", lambda w: f"/api/clients/{w['client']}/packages/", None),
    "adjust": (
        "post",
        lambda w: f"/api/clients/{w['client']}/packages/{w['client_package']}/adjust/",
        {"delta": 1, "reason": "Goodwill"},
    ),
    "client bookings": ("get", lambda w: f"/api/clients/{w['client']}/bookings/", None),
}

# What each caller gets. The trainer is not the client's: neither their primary trainer nor booked by them.
EXPECTED = {
    "list packages": {"anonymous": 200, "client": 200, "trainer": 200, "manager": 200, "owner": 200},
    "create package": {"anonymous": 401, "client": 403, "trainer": 403, "manager": 201, "owner": 201},
    "read package": {"anonymous": 200, "client": 200, "trainer": 200, "manager": 200, "owner": 200},
    "change package": {"anonymous": 401, "client": 403, "trainer": 403, "manager": 200, "owner": 200},
    "deactivate package": {"anonymous": 401, "client": 403, "trainer": 403, "manager": 200, "owner": 200},
    "package clients": {"anonymous": 401, "client": 403, "trainer": 403, "manager": 200, "owner": 200},
    "assign package": {"anonymous": 401, "client": 403, "trainer": 403, "manager": 201, "owner": 201},
    "client packages": {"anonymous": 401, "client": 200, "trainer": 404, "manager": 200, "owner": 200},
    "adjust": {"anonymous": 401, "client": 403, "trainer": 403, "manager": 200, "owner": 200},
    "client bookings": {"anonymous": 401, "client": 200, "trainer": 404, "manager": 200, "owner": 200},
}


def state_of(studio) -> tuple:
    with tenant_context(studio):
        return (
            list(SessionPackage.objects.order_by("id").values_list("name", "is_active")),
            list(ClientPackage.objects.order_by("id").values_list("id", "sessions_remaining")),
            CreditTransaction.objects.count(),
        )


def caller(role, *, anon_a, as_user, client_a, manager_a, owner_a, studio_a):
    if role == "anonymous":
        return anon_a
    if role == "trainer":
        # Another trainer than schedule_a's, whom the client booked: this one has no business with the client.
        return as_user(make_user(studio_a, role=Role.TRAINER, email="other-trainer@alpha.test"))
    return as_user({"client": client_a, "manager": manager_a, "owner": owner_a}[role])


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("role", ["anonymous", "client", "trainer", "manager", "owner"])
def test_permission_matrix(endpoint, role, world, anon_a, as_user, client_a, manager_a, owner_a, studio_a):
    method, url, body = ENDPOINTS[endpoint]
    body = body(world) if callable(body) else body
    api = caller(
        role, anon_a=anon_a, as_user=as_user, client_a=client_a, manager_a=manager_a, owner_a=owner_a, studio_a=studio_a
    )
    before = state_of(studio_a)

    response = getattr(api, method)(url(world), body)

    expected = EXPECTED[endpoint][role]
    assert response.status_code == expected, response.content
    if expected >= 400 or method == "get":
        assert state_of(studio_a) == before
    else:
        assert state_of(studio_a) != before


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_another_studio_s_token_means_nothing_here(endpoint, world, client_b, studio_a, studio_b):
    method, url, body = ENDPOINTS[endpoint]
    body = body(world) if callable(body) else body
    stranger = api_client(host_of(studio_a), token_of(client_b, studio_b))
    before = state_of(studio_a)

    response = getattr(stranger, method)(url(world), body)

    assert response.status_code == 401
    assert state_of(studio_a) == before


@pytest.mark.parametrize("endpoint", sorted(set(ENDPOINTS) - {"list packages", "create package"}))
def test_another_studio_s_owner_gets_404_for_this_studio_s_ids(endpoint, world, as_user, studio_a, studio_b):
    method, url, body = ENDPOINTS[endpoint]
    body = body(world) if callable(body) else body
    with tenant_context(studio_b):
        owner_b = User.objects.get(email="owner@bravo.test")
    before = state_of(studio_a)

    response = getattr(as_user(owner_b, studio_b), method)(url(world), body)

    assert response.status_code == 404
    assert state_of(studio_a) == before
    assert state_of(studio_b) == ([], [], 0)
