"""The desk's client book: the list agrees with GET /api/clients/ for the same query string, a trainer sees only
their clients, and a client's page edits, sells, corrects and erases through the API's services and rules."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User
from tenant_apps.bookings.models import Booking
from tenant_apps.clients import services as client_services
from tenant_apps.clients.models import Client as ClientRecord
from tenant_apps.clients.models import ClientNote
from tenant_apps.packages import services as package_services
from tenant_apps.packages.models import ClientPackage, CreditTransaction
from tests.bookings.conftest import sell
from tests.conftest import make_user
from tests.factories import ClientFactory, SessionPackageFactory, SessionTypeFactory, TrainerFactory

pytestmark = pytest.mark.django_db

CLIENT_LINK = re.compile(r'href="/desk/clients/(\d+)/"')


def _browser(studio, user=None) -> Client:
    browser = Client(HTTP_HOST=f"{studio.slug}.localhost")
    if user is not None:
        with tenant_context(studio):
            browser.force_login(user)
    return browser


def _owner_b(studio_b) -> User:
    with tenant_context(studio_b):
        return User.objects.get(email="owner@bravo.test")


def _ids_on_page(response) -> list[int]:
    assert response.status_code == 200, response.content.decode()[:500]
    return [int(found) for found in CLIENT_LINK.findall(response.content.decode())]


@pytest.fixture
def book_a(studio_a, trainer_a):
    """Studio A's client book: Tess trains Ann (primary, beginner, tag vip, a package) and Ben (booked her once);
    Colin trains Cat (advanced, created last year). Dan has no trainer and is inactive."""
    with tenant_context(studio_a):
        tess = TrainerFactory(user=trainer_a, display_name="Tess Trainer")
        colin = TrainerFactory(
            user=make_user(studio_a, role=Role.TRAINER, email="colin@alpha.test"), display_name="Colin Coach"
        )
        ann = ClientFactory(
            first_name="Ann", last_name="Archer", primary_trainer=tess, fitness_level="beginner", tags=["vip"],
            phone="+447700900123",
        )  # fmt: skip
        ben = ClientFactory(first_name="Ben", last_name="Baker")
        cat = ClientFactory(first_name="Cat", last_name="Carter", primary_trainer=colin, fitness_level="advanced")
        dan = ClientFactory(first_name="Dan", last_name="Dunn", is_active=False)
        ClientRecord.objects.filter(pk=cat.pk).update(created=timezone.now() - timedelta(days=400))
        session_type = SessionTypeFactory(trainers=[tess, colin])
        start = timezone.now() - timedelta(days=3)
        Booking.objects.create(
            trainer=tess, client=ben, session_type=session_type, start_time=start, end_time=start + timedelta(hours=1),
            blocked_from=start, blocked_until=start + timedelta(hours=1), price=Decimal("40"), currency="GBP",
            status="completed",
        )  # fmt: skip
        package = sell(ann, name="Ten pack")
    return {"tess": tess, "colin": colin, "ann": ann, "ben": ben, "cat": cat, "dan": dan, "package": package}


# -- the list ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner_a", "manager_a"])
def test_owner_and_managers_list_every_client(studio_a, book_a, who, request):
    ids = _ids_on_page(_browser(studio_a, request.getfixturevalue(who)).get("/desk/clients/"))

    assert sorted(ids) == sorted(book_a[name].pk for name in ("ann", "ben", "cat", "dan"))


def test_a_trainer_lists_only_the_clients_they_train_or_who_booked_them(studio_a, book_a, trainer_a):
    ids = _ids_on_page(_browser(studio_a, trainer_a).get("/desk/clients/"))

    assert sorted(ids) == sorted([book_a["ann"].pk, book_a["ben"].pk])


@pytest.mark.parametrize(
    "query",
    [
        "",
        "search=ann",
        "search=0900123",
        "search=07700%20900123",
        "trainer={tess}",
        "trainer={colin}",
        "has_active_package=true",
        "has_active_package=false",
        "fitness_level=advanced",
        "tag=vip",
        "is_active=false",
        "created_after={month}",
        "ordering=-first_name",
        "page_size=2",
        "page_size=2&page=2",
        "trainer={tess}&has_active_package=false",
    ],
)
@pytest.mark.parametrize("who", ["owner_a", "trainer_a"])
def test_the_page_lists_what_the_api_lists_for_the_same_query_string(studio_a, book_a, as_user, query, who, request):
    user = request.getfixturevalue(who)
    month = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0).isoformat().replace("+", "%2B")
    query = query.format(tess=book_a["tess"].pk, colin=book_a["colin"].pk, month=month)

    api = as_user(user).get(f"/api/clients/?{query}")
    page = _browser(studio_a, user).get(f"/desk/clients/?{query}")

    # A page past the end is a 404 for both.
    assert page.status_code == api.status_code
    if api.status_code == 200:
        assert _ids_on_page(page) == [row["id"] for row in api.json()["results"]]


def test_new_this_month_is_the_apis_created_after_the_first_of_the_month(studio_a, book_a, owner_a):
    page = _browser(studio_a, owner_a).get("/desk/clients/").content.decode()
    since = re.search(r'<option value="([^"]+)">New this month</option>', page).group(1)
    assert since.startswith(timezone.localdate().replace(day=1).isoformat()[:7])

    ids = _ids_on_page(_browser(studio_a, owner_a).get("/desk/clients/", {"created_after": since}))

    assert book_a["cat"].pk not in ids and book_a["ann"].pk in ids


def test_a_bad_filter_is_a_400_with_the_filters_words(studio_a, book_a, owner_a):
    response = _browser(studio_a, owner_a).get("/desk/clients/?trainer=abc&fitness_level=olympic")

    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem with the filters" in page
    assert "Select a valid choice" in page
    assert not CLIENT_LINK.findall(page)


def test_pages_link_to_each_other_keeping_the_filters_and_a_page_past_the_end_is_a_404(studio_a, book_a, owner_a):
    browser = _browser(studio_a, owner_a)

    first = browser.get("/desk/clients/?page_size=2&is_active=true").content.decode()
    assert 'href="/desk/clients/?page_size=2&amp;is_active=true&amp;page=2"' in first
    assert "Page 1 of 2" in first
    assert browser.get("/desk/clients/?page_size=2&page=9").status_code == 404


def test_htmx_gets_the_results_only(studio_a, book_a, owner_a):
    response = _browser(studio_a, owner_a).get("/desk/clients/?search=ann", HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert "<html" not in page and "<form" not in page
    assert _ids_on_page(response) == [book_a["ann"].pk]
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("who", ["owner_a", "trainer_a"])
def test_the_list_takes_the_same_number_of_queries_whatever_the_number_of_clients(studio_a, book_a, who, request):
    user = request.getfixturevalue(who)
    browser = _browser(studio_a, user)
    browser.get("/desk/clients/")  # warm the session and tenant lookups

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert browser.get("/desk/clients/?has_active_package=false").status_code == 200
        return len(queries)

    before = count()
    with tenant_context(studio_a):
        for number in range(15):
            ClientFactory(first_name=f"More{number}", primary_trainer=book_a["tess"], tags=["x"], phone="+447700900999")
            TrainerFactory(display_name=f"Extra {number}")
    assert count() == before


def test_a_client_a_visitor_and_another_studio_are_refused_the_list(studio_a, studio_b, book_a, client_a):
    assert _browser(studio_a, client_a).get("/desk/clients/").status_code == 403
    visitor = _browser(studio_a).get("/desk/clients/")
    assert visitor.status_code == 302 and "/accounts/login/" in visitor["Location"]
    stranger = _browser(studio_b, _owner_b(studio_b))
    stranger.defaults["HTTP_HOST"] = f"{studio_a.slug}.localhost"
    response = stranger.get("/desk/clients/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# -- a client's page -------------------------------------------------------------------------------------------


def test_the_client_page_shows_profile_packages_bookings_and_timeline(studio_a, book_a, owner_a):
    with tenant_context(studio_a):
        ClientNote.objects.create(client=book_a["ben"], author=owner_a, text="Prefers mornings")
        sell(book_a["ben"], name="Five pack", sessions_count=5)
        booking = Booking.objects.get(client=book_a["ben"])
        booking.events.create(kind="completed", from_status="confirmed", to_status="completed")

    page = _browser(studio_a, owner_a).get(f"/desk/clients/{book_a['ben'].pk}/").content.decode()

    assert "<h1>Ben Baker</h1>" in page
    assert 'name="email"' in page and 'value="' + book_a["ben"].email + '"' in page
    assert "Five pack" in page and "5 credits left" in page
    assert f'href="/desk/bookings/{booking.pk}/"' in page
    assert "Prefers mornings" in page
    assert "+5 credits (purchase)" in page
    assert "Booking completed" in page
    assert "Erase Ben Baker" in page


def test_a_trainer_sees_their_clients_page_without_the_forms_and_not_anyone_elses(studio_a, book_a, trainer_a):
    browser = _browser(studio_a, trainer_a)

    page = browser.get(f"/desk/clients/{book_a['ann'].pk}/").content.decode()
    assert "<h1>Ann Archer</h1>" in page
    assert "<form" not in page.split('id="main"')[1] and "Erase" not in page

    assert browser.get(f"/desk/clients/{book_a['cat'].pk}/").status_code == 404
    assert browser.get(f"/desk/clients/{book_a['cat'].pk}/erase/").status_code == 404


def test_another_studios_client_id_is_a_404(studio_a, studio_b, book_a):
    browser = _browser(studio_b, _owner_b(studio_b))

    assert browser.get(f"/desk/clients/{book_a['ann'].pk}/").status_code == 404
    assert browser.post(f"/desk/clients/{book_a['ann'].pk}/erase/").status_code == 404
    with tenant_context(studio_a):
        assert ClientRecord.objects.get(pk=book_a["ann"].pk).erased_at is None


def _profile(client, **changes) -> dict:
    data = {
        "first_name": client.first_name, "last_name": client.last_name, "email": client.email, "phone": "",
        "fitness_level": client.fitness_level, "primary_trainer": client.primary_trainer_id or "",
        "tags": ", ".join(client.tags), "notes": client.notes, "is_active": "on",
    }  # fmt: skip
    data.update(changes)
    return data


def test_a_manager_edits_the_profile(studio_a, book_a, manager_a):
    ben = book_a["ben"]
    response = _browser(studio_a, manager_a).post(
        f"/desk/clients/{ben.pk}/",
        _profile(
            ben, first_name="Benjamin", phone="07400 123456", tags="regular, vip, regular", fitness_level="advanced"
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == f"/desk/clients/{ben.pk}/"
    with tenant_context(studio_a):
        ben.refresh_from_db()
    assert (ben.first_name, str(ben.phone), ben.tags, ben.fitness_level) == (
        "Benjamin", "+447400123456", ["regular", "vip"], "advanced",
    )  # fmt: skip


def test_edit_errors_show_on_the_form_with_the_services_words(studio_a, book_a, owner_a):
    ben = book_a["ben"]
    browser = _browser(studio_a, owner_a)

    response = browser.post(f"/desk/clients/{ben.pk}/", _profile(ben, email="not-an-email", first_name=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page
    assert "Enter the client&#x27;s first name." in page
    assert "Enter an email address in the correct format" in page

    taken = browser.post(f"/desk/clients/{ben.pk}/", _profile(ben, email=book_a["ann"].email.upper()))
    assert taken.status_code == 400
    assert "A client with this email already exists." in taken.content.decode()
    with tenant_context(studio_a):
        assert ClientRecord.objects.get(pk=ben.pk).email == ben.email


def test_a_trainer_cant_edit_even_their_own_client(studio_a, book_a, trainer_a):
    ann = book_a["ann"]
    response = _browser(studio_a, trainer_a).post(f"/desk/clients/{ann.pk}/", _profile(ann, first_name="Hacked"))

    assert response.status_code == 403
    with tenant_context(studio_a):
        assert ClientRecord.objects.get(pk=ann.pk).first_name == "Ann"


def test_a_client_and_a_visitor_are_refused_a_clients_page(studio_a, book_a, client_a):
    assert _browser(studio_a, client_a).get(f"/desk/clients/{book_a['ann'].pk}/").status_code == 403
    response = _browser(studio_a).post(f"/desk/clients/{book_a['ann'].pk}/erase/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# -- selling and correcting packages -------------------------------------------------------------------------------


def test_a_manager_sells_a_package_with_its_method_and_amount(studio_a, book_a, manager_a):
    with tenant_context(studio_a):
        package = SessionPackageFactory(name="Summer five", sessions_count=5)
    ben = book_a["ben"]

    response = _browser(studio_a, manager_a).post(
        f"/desk/clients/{ben.pk}/packages/sell/",
        {"sell-package": package.pk, "sell-payment_method": "card", "sell-amount_paid": "120.00"},
        follow=True,
    )

    assert "Summer five is sold to Ben Baker." in response.content.decode()
    with tenant_context(studio_a):
        sold = ClientPackage.objects.get(client=ben)
        assert (sold.package_id, sold.payment_method, sold.amount_paid, sold.sold_by_id) == (
            package.pk, "card", Decimal("120.00"), manager_a.pk,
        )  # fmt: skip
        assert list(sold.transactions.values_list("kind", "delta")) == [("purchase", 5)]


def test_a_sale_with_mistakes_shows_them_and_sells_nothing(studio_a, book_a, owner_a):
    with tenant_context(studio_a):
        retired = SessionPackageFactory(name="Old pack", is_active=False)
    ben = book_a["ben"]

    response = _browser(studio_a, owner_a).post(
        f"/desk/clients/{ben.pk}/packages/sell/",
        {"sell-package": retired.pk, "sell-payment_method": "gold", "sell-amount_paid": "-5"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Select a valid choice" in page
    assert "Ensure this value is greater than or equal to 0." in page
    with tenant_context(studio_a):
        assert not ClientPackage.objects.filter(client=ben).exists()


def test_an_inactive_clients_sale_is_refused_in_the_services_words(studio_a, book_a, owner_a):
    with tenant_context(studio_a):
        package = SessionPackageFactory()
    response = _browser(studio_a, owner_a).post(
        f"/desk/clients/{book_a['dan'].pk}/packages/sell/",
        {"sell-package": package.pk, "sell-payment_method": "cash", "sell-amount_paid": "10"},
    )

    assert response.status_code == 400
    assert "This client is inactive." in response.content.decode()


def test_a_manager_corrects_a_balance_with_a_reason_in_the_ledger(studio_a, book_a, manager_a):
    ann, package = book_a["ann"], book_a["package"]
    prefix = f"adjust-{package.pk}"

    response = _browser(studio_a, manager_a).post(
        f"/desk/clients/{ann.pk}/packages/{package.pk}/adjust/",
        {f"{prefix}-delta": "-2", f"{prefix}-reason": "Two sessions taken on paper"},
    )

    assert response.status_code == 302
    with tenant_context(studio_a):
        package.refresh_from_db()
        assert package.sessions_remaining == 8
        assert list(package.transactions.values_list("kind", "delta", "reason", "actor")) == [
            ("purchase", 10, "Ten pack: 10 sessions", None),
            ("adjustment", -2, "Two sessions taken on paper", manager_a.pk),
        ]


def test_a_correction_the_service_refuses_shows_on_its_form(studio_a, book_a, owner_a):
    ann, package = book_a["ann"], book_a["package"]
    prefix = f"adjust-{package.pk}"
    browser = _browser(studio_a, owner_a)

    too_many = browser.post(
        f"/desk/clients/{ann.pk}/packages/{package.pk}/adjust/", {f"{prefix}-delta": "-11", f"{prefix}-reason": "x"}
    )
    assert too_many.status_code == 400
    assert "The package holds 10 credits; 11 can&#x27;t be taken from it." in too_many.content.decode()

    no_reason = browser.post(f"/desk/clients/{ann.pk}/packages/{package.pk}/adjust/", {f"{prefix}-delta": "1"})
    assert no_reason.status_code == 400
    assert "Say why the balance is corrected." in no_reason.content.decode()
    with tenant_context(studio_a):
        assert CreditTransaction.objects.filter(client_package=package).count() == 1


def test_a_trainer_can_neither_sell_nor_correct(studio_a, book_a, trainer_a):
    ann, package = book_a["ann"], book_a["package"]
    browser = _browser(studio_a, trainer_a)
    prefix = f"adjust-{package.pk}"

    sale = browser.post(
        f"/desk/clients/{ann.pk}/packages/sell/",
        {"sell-package": package.package_id, "sell-payment_method": "cash", "sell-amount_paid": "1"},
    )
    correction = browser.post(
        f"/desk/clients/{ann.pk}/packages/{package.pk}/adjust/", {f"{prefix}-delta": "5", f"{prefix}-reason": "gift"}
    )

    assert (sale.status_code, correction.status_code) == (403, 403)
    with tenant_context(studio_a):
        assert CreditTransaction.objects.filter(client_package__client=ann).count() == 1


def test_another_clients_package_id_is_a_404(studio_a, book_a, owner_a):
    package = book_a["package"]  # Ann's
    prefix = f"adjust-{package.pk}"

    response = _browser(studio_a, owner_a).post(
        f"/desk/clients/{book_a['ben'].pk}/packages/{package.pk}/adjust/",
        {f"{prefix}-delta": "5", f"{prefix}-reason": "gift"},
    )

    assert response.status_code == 404


# -- erasure ---------------------------------------------------------------------------------------------------


def test_the_owner_confirms_then_erases_and_the_bookings_stay(studio_a, book_a, owner_a):
    ben = book_a["ben"]
    browser = _browser(studio_a, owner_a)

    confirmation = browser.get(f"/desk/clients/{ben.pk}/erase/").content.decode()
    assert "What is kept" in confirmation and "What is removed" in confirmation
    with tenant_context(studio_a):
        assert ClientRecord.objects.get(pk=ben.pk).erased_at is None  # nothing changes on GET

    response = browser.post(f"/desk/clients/{ben.pk}/erase/", follow=True)

    assert "Ben Baker&#x27;s personal data is erased." in response.content.decode()
    with tenant_context(studio_a):
        ben.refresh_from_db()
        assert ben.erased_at is not None and ben.first_name == "Erased" and "erased.invalid" in ben.email
        assert Booking.objects.filter(client=ben).count() == 1


@pytest.mark.parametrize("who", ["manager_a", "trainer_a"])
def test_only_the_owner_may_erase(studio_a, book_a, who, request):
    browser = _browser(studio_a, request.getfixturevalue(who))
    ann = book_a["ann"]

    assert "Erase" not in browser.get(f"/desk/clients/{ann.pk}/").content.decode()
    assert browser.get(f"/desk/clients/{ann.pk}/erase/").status_code == 403
    assert browser.post(f"/desk/clients/{ann.pk}/erase/").status_code == 403
    with tenant_context(studio_a):
        assert ClientRecord.objects.get(pk=ann.pk).erased_at is None


# -- one rule for the desk and the API -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "change", "erase", "packages"),
    [
        ("owner_a", True, True, True),
        ("manager_a", True, False, True),
        ("trainer_a", False, False, False),
        ("client_a", False, False, False),
    ],
)
def test_who_may_change_erase_and_sell_is_the_services_rule(studio_a, who, change, erase, packages, request):
    user = request.getfixturevalue(who)

    assert client_services.may_change_clients(user) is change
    assert client_services.may_erase_clients(user) is erase
    assert package_services.may_manage_client_packages(user) is packages
    assert not client_services.may_erase_clients(AnonymousUser())


def test_the_desk_and_the_api_both_ask_the_services_who_may_erase(studio_a, book_a, manager_a, as_user, monkeypatch):
    """Widening the service's rule widens both at once: neither keeps a copy of it."""
    ann, ben = book_a["ann"], book_a["ben"]
    monkeypatch.setattr(client_services, "may_erase_clients", lambda user: user.is_authenticated)

    desk = _browser(studio_a, manager_a).post(f"/desk/clients/{ann.pk}/erase/")
    api = as_user(manager_a).post(f"/api/clients/{ben.pk}/erase/")

    assert (desk.status_code, api.status_code) == (302, 200)
    with tenant_context(studio_a):
        assert ClientRecord.objects.filter(pk__in=[ann.pk, ben.pk], erased_at__isnull=False).count() == 2


def test_the_desk_and_the_api_both_ask_the_services_who_may_sell(studio_a, book_a, manager_a, as_user, monkeypatch):

    ann = book_a["ann"]
    monkeypatch.setattr(client_services, "may_change_clients", lambda user: False)
    monkeypatch.setattr(package_services, "may_manage_client_packages", lambda user: False)

    assert _browser(studio_a, manager_a).post(f"/desk/clients/{ann.pk}/packages/sell/", {}).status_code == 403
    assert _browser(studio_a, manager_a).post(f"/desk/clients/{ann.pk}/", {}).status_code == 403
    assert as_user(manager_a).patch(f"/api/clients/{ann.pk}/", {"notes": "x"}, format="json").status_code == 403
    with tenant_context(studio_a):
        package = SessionPackageFactory()
    sale = {"client": ann.pk, "payment_method": "cash", "amount_paid": "1.00"}
    assert as_user(manager_a).post(f"/api/packages/{package.pk}/assign/", sale, format="json").status_code == 403
