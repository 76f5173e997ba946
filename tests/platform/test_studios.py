"""The platform admins' pages under /platform/: only platform admins (signed in with both factors, on the
platform host) reach them; the list counts each studio's own rows; onboarding, suspension and reactivation go
through the API's services and leave their line in the studio's audit log."""

from datetime import timedelta
from decimal import Decimal

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context, schema_exists, tenant_context

from shared_apps.accounts.models import Role, User
from shared_apps.core.exceptions import ValidationFailed
from tenant_apps.bookings.models import Booking
from tenants import platform_views
from tenants.models import Domain, Studio, StudioEvent
from tenants.services import studio_suspend
from tests.conftest import PLATFORM_HOST, api_client, host_of, make_user, token_of, totp_code, totp_enable
from tests.factories import PASSWORD, ClientFactory, SessionTypeFactory, TrainerFactory

pytestmark = pytest.mark.django_db

ONBOARD = "/platform/studios/new/"


def _platform(user=None) -> Client:
    browser = Client(HTTP_HOST=PLATFORM_HOST)
    if user is not None:
        with schema_context("public"):
            browser.force_login(user)
    return browser


def _studio_status(studio: Studio) -> str:
    with schema_context("public"):
        return Studio.objects.get(pk=studio.pk).status


def _status_events(studio: Studio):
    """The studio's suspensions and reactivations (the fixtures' studios were onboarded by the platform itself)."""
    return StudioEvent.objects.filter(studio=studio).exclude(action=StudioEvent.Action.ONBOARDED)


def _pages(studio: Studio) -> list[tuple[str, str]]:
    return [
        ("get", "/platform/"),
        ("get", f"/platform/studios/{studio.pk}/"),
        ("get", ONBOARD),
        ("post", ONBOARD),
        ("post", f"/platform/studios/{studio.pk}/suspend/"),
        ("post", f"/platform/studios/{studio.pk}/reactivate/"),
    ]


def _onboard_body(**changes) -> dict:
    return {
        "name": "Core Club",
        "slug": "core-club",
        "owner_email": "Boss@Core.test",
        "owner_first_name": "Bea",
        "owner_last_name": "Boss",
        "timezone": "Europe/Paris",
        "theme": "midnight",
        "country": "FR",
        "currency": "eur",
        **changes,
    }


def _nothing_left_of(slug: str) -> bool:
    with schema_context("public"):
        return (
            not Studio.objects.filter(slug=slug).exists()
            and not Domain.objects.filter(domain__startswith=f"{slug}.").exists()
            and not schema_exists(slug.replace("-", "_"))
        )


# -- who gets in ------------------------------------------------------------------------------------------


def test_a_visitor_is_sent_to_sign_in_from_every_page(studio_a):
    for method, url in _pages(studio_a):
        response = getattr(_platform(), method)(url, {"reason": "x"} if method == "post" else None)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"/accounts/login/?next={url}"), url
    assert _studio_status(studio_a) == Studio.Status.ACTIVE


def test_a_platform_account_that_is_not_an_admin_gets_403_on_every_page(studio_a):
    # A studio owner's account lives in the studio's schema; one that also had a platform account (same address)
    # would be a platform user without is_staff: refused, and nothing changes.
    person = make_user(None, email="owner@alpha.test", role=Role.OWNER, is_staff=False)
    with schema_context("public"):
        totp_enable(person)
    browser = _platform(person)

    for method, url in _pages(studio_a):
        response = getattr(browser, method)(url, {"reason": "x", **_onboard_body()} if method == "post" else None)
        assert response.status_code == 403, url
        assert "for the platform's administrators" in response.content.decode()
    assert _studio_status(studio_a) == Studio.Status.ACTIVE
    assert _nothing_left_of("core-club")


def test_a_studio_owners_session_means_nothing_on_the_platform(studio_a, owner_a):
    browser = Client(HTTP_HOST=host_of(studio_a))
    with tenant_context(studio_a):
        browser.force_login(owner_a)
    assert browser.get("/desk/today/").status_code == 200

    browser.defaults["HTTP_HOST"] = PLATFORM_HOST  # the same cookie, on the platform host
    for method, url in _pages(studio_a):
        response = getattr(browser, method)(url, {"reason": "x"} if method == "post" else None)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    assert _studio_status(studio_a) == Studio.Status.ACTIVE


def test_a_platform_admins_session_means_nothing_on_a_studio_host(platform_admin, studio_a):
    browser = _platform(platform_admin)
    assert browser.get("/platform/").status_code == 200

    browser.defaults["HTTP_HOST"] = host_of(studio_a)
    desk = browser.get("/desk/today/")
    platform_pages = browser.get("/platform/")

    assert desk.status_code == 302 and desk["Location"].startswith("/accounts/login/")
    assert platform_pages.status_code == 404


def test_a_platform_admin_without_two_factor_is_sent_to_set_it_up(db):
    admin = make_user(None, email="new-admin@platform.test", is_staff=True, is_superuser=True, role=Role.OWNER)
    browser = _platform(admin)

    response = browser.get("/platform/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    with schema_context("public"):
        assert not Authenticator.objects.filter(user=admin).exists()


def test_a_platform_admin_signs_in_with_both_factors_to_reach_the_studios(platform_admin):
    browser = _platform()

    start = browser.get("/platform/")
    assert start["Location"] == "/accounts/login/?next=/platform/"
    password_step = browser.post(start["Location"], {"login": platform_admin.email, "password": PASSWORD})
    assert password_step["Location"].startswith("/accounts/2fa/authenticate/")
    assert browser.get("/platform/").status_code == 302  # the password alone is not a session
    code_step = browser.post("/accounts/2fa/authenticate/", {"code": totp_code()})

    assert code_step["Location"] == "/platform/"
    assert browser.get("/platform/").status_code == 200


def test_the_django_admin_signs_in_through_the_same_login_page(platform_admin):
    browser = _platform()

    admin_login = browser.get("/admin/login/?next=/admin/")
    admin_index = browser.get("/admin/")

    assert admin_login.status_code == 302 and admin_login["Location"].startswith("/accounts/login/")
    assert admin_index.status_code == 302 and "login" in admin_index["Location"]
    assert browser.get(admin_index["Location"], follow=True).redirect_chain[-1][0].startswith("/accounts/login/")


# -- the list ------------------------------------------------------------------------------------------------


@pytest.fixture
def busy_a(studio_a, trainer_a):
    """Studio A: two active trainers and one inactive; three active clients and one inactive; this month two
    bookings and a cancelled one, besides one last month and one next month."""
    start, end = platform_views._month_bounds(studio_a)
    with tenant_context(studio_a):
        tess = TrainerFactory(user=trainer_a)
        TrainerFactory(user=make_user(studio_a, role=Role.TRAINER, email="colin@alpha.test"))
        TrainerFactory(user=make_user(studio_a, role=Role.TRAINER, email="gone@alpha.test"), is_active=False)
        clients = [ClientFactory() for _ in range(3)]
        ClientFactory(is_active=False)
        session_type = SessionTypeFactory(trainers=[tess])
        for offset, status in (
            (timedelta(hours=1), "confirmed"),
            (timedelta(hours=3), "completed"),
            (timedelta(hours=5), "cancelled"),
            (timedelta(days=-1), "completed"),
            (end - start + timedelta(days=1), "confirmed"),
        ):
            at = start + offset
            Booking.objects.create(
                trainer=tess, client=clients[0], session_type=session_type, start_time=at,
                end_time=at + timedelta(hours=1), blocked_from=at, blocked_until=at + timedelta(hours=1),
                price=Decimal("40"), currency="GBP", status=status,
            )  # fmt: skip


@pytest.fixture
def busy_b(studio_b):
    with tenant_context(studio_b):
        TrainerFactory()


def test_the_list_counts_each_studios_own_rows(platform_admin, studio_a, studio_b, busy_a, busy_b):
    with CaptureQueriesContext(connection) as queries:
        response = _platform(platform_admin).get("/platform/")

    assert response.status_code == 200
    counts = {row["studio"].slug: row["counts"] for row in response.context["rows"]}
    assert counts == {
        "alpha": {"trainers": 2, "clients": 3, "bookings": 2},
        "bravo": {"trainers": 1, "clients": 0, "bookings": 0},
    }
    page = response.content.decode()
    assert "Alpha Strength" in page and "Bravo Yoga" in page
    assert "No subscription yet" in page and "Active" in page
    # The counts of a whole page are one statement, however many studios it shows.
    assert sum("UNION ALL" in query["sql"] for query in queries.captured_queries) == 1


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"q": "alpha"}, ["alpha"]),
        ({"q": "YOGA"}, ["bravo"]),
        ({"q": "bravo.localhost"}, ["bravo"]),
        ({"q": "nobody"}, []),
        ({"status": "active"}, ["alpha", "bravo"]),
        ({"status": "suspended"}, []),
    ],
)
def test_the_list_searches_by_name_slug_or_domain_and_status(platform_admin, studio_a, studio_b, query, shown):
    response = _platform(platform_admin).get("/platform/", query)

    assert response.status_code == 200
    assert [row["studio"].slug for row in response.context["rows"]] == shown
    if query.get("q"):
        assert f'value="{query["q"]}"' in response.content.decode()  # the search stays in the form and URL


def test_a_bad_status_filter_is_an_error_not_a_list(platform_admin):
    response = _platform(platform_admin).get("/platform/", {"status": "deleted"})

    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()


def test_the_list_is_paginated_and_keeps_the_search_in_its_links(platform_admin, studio_a, studio_b, monkeypatch):
    monkeypatch.setattr(platform_views, "STUDIOS_PER_PAGE", 1)
    browser = _platform(platform_admin)

    first = browser.get("/platform/", {"status": "active"})
    second = browser.get("/platform/", {"status": "active", "page": 2})

    assert [row["studio"].slug for row in first.context["rows"]] == ["alpha"]
    assert [row["studio"].slug for row in second.context["rows"]] == ["bravo"]
    assert 'href="/platform/?status=active&amp;page=2"' in first.content.decode()
    assert "Page 2 of 2" in second.content.decode()


# -- a studio's page ------------------------------------------------------------------------------------------


def test_a_studios_page_shows_its_domains_owner_subscription_and_counts(platform_admin, studio_a, busy_a):
    response = _platform(platform_admin).get(f"/platform/studios/{studio_a.pk}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Alpha Strength</h1>" in page
    assert "alpha.localhost (primary)" in page
    assert "owner@alpha.test" in page
    assert "No subscription yet" in page
    assert response.context["counts"] == {"trainers": 2, "clients": 3, "bookings": 2}


def test_an_unknown_studio_is_a_404(platform_admin):
    assert _platform(platform_admin).get("/platform/studios/999999/").status_code == 404


# -- onboarding ------------------------------------------------------------------------------------------------


def test_onboarding_creates_the_studio_and_invites_its_owner(platform_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _platform(platform_admin).post(ONBOARD, _onboard_body())

    with schema_context("public"):
        studio = Studio.objects.get(slug="core-club")
        event = StudioEvent.objects.get(studio=studio)
    assert response.status_code == 302
    assert response["Location"] == f"/platform/studios/{studio.pk}/"
    assert schema_exists("core_club")
    assert studio.get_primary_domain().domain == "core-club.localhost"
    assert (studio.timezone, studio.theme, studio.country, studio.currency) == ("Europe/Paris", "midnight", "FR", "EUR")
    with tenant_context(studio):
        owner = User.objects.get()
        assert (owner.email, owner.role, owner.has_usable_password()) == ("boss@core.test", Role.OWNER, False)
    assert [message.to for message in mail.outbox] == [["boss@core.test"]]
    assert "core-club.localhost/accounts/password/reset/key/" in mail.outbox[0].body
    assert (event.action, event.actor_id) == (StudioEvent.Action.ONBOARDED, platform_admin.pk)


def test_the_onboarding_page_has_a_labelled_field_for_every_input(platform_admin):
    page = _platform(platform_admin).get(ONBOARD).content.decode()

    for name in _onboard_body():
        assert f'<label for="id_{name}">' in page, name


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"slug": "Core Club"}, "slug", "Use lower-case letters"),
        ({"slug": "alpha"}, "slug", "with this Slug already exists."),
        ({"slug": "admin"}, "slug", "This name is reserved."),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Select a valid choice."),
        ({"owner_email": "not-an-address"}, "owner_email", "Enter a valid email address."),
        ({"name": ""}, "name", "This field is required."),
        ({"currency": "euro"}, "currency", "ISO 4217"),
    ],
)
def test_onboarding_refuses_bad_input_and_creates_nothing(
    platform_admin, studio_a, changes, field, message, django_capture_on_commit_callbacks
):
    slug = changes.get("slug", "core-club")
    with schema_context("public"):
        studios_before, events_before = Studio.objects.count(), StudioEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = _platform(platform_admin).post(ONBOARD, _onboard_body(**changes))

    page = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in page
    assert message in page
    assert f'id="id_{field}_error"' in page
    with schema_context("public"):
        assert (Studio.objects.count(), StudioEvent.objects.count()) == (studios_before, events_before)
    for leftover in {"core-club", slug} - {"alpha", "Core Club"}:
        assert _nothing_left_of(leftover)
    assert mail.outbox == []


# -- suspension and reactivation ----------------------------------------------------------------------------


def test_suspending_with_a_reason_closes_the_studio_and_logs_who_and_why(platform_admin, studio_a, anon_a):
    browser = _platform(platform_admin)

    response = browser.post(f"/platform/studios/{studio_a.pk}/suspend/", {"reason": "Unpaid invoices since May"})

    assert response.status_code == 302 and response["Location"] == f"/platform/studios/{studio_a.pk}/"
    assert _studio_status(studio_a) == Studio.Status.SUSPENDED
    assert Client(HTTP_HOST=host_of(studio_a)).get("/").status_code == 403
    assert anon_a.get("/api/studio/").status_code == 403
    with schema_context("public"):
        event = _status_events(studio_a).get()
    assert (event.action, event.actor_id, event.reason) == (
        StudioEvent.Action.SUSPENDED,
        platform_admin.pk,
        "Unpaid invoices since May",
    )
    page = browser.get(response["Location"]).content.decode()
    assert "Unpaid invoices since May" in page and "admin@platform.test" in page
    assert "Reactivate the studio" in page


def test_reactivating_opens_the_studio_again_and_logs_it(platform_admin, studio_a):
    browser = _platform(platform_admin)
    browser.post(f"/platform/studios/{studio_a.pk}/suspend/", {"reason": "Unpaid"})

    response = browser.post(f"/platform/studios/{studio_a.pk}/reactivate/", {"reason": "Paid in full"})

    assert response.status_code == 302
    assert _studio_status(studio_a) == Studio.Status.ACTIVE
    assert Client(HTTP_HOST=host_of(studio_a)).get("/").status_code == 200
    with schema_context("public"):
        actions = list(_status_events(studio_a).values_list("action", "reason", "actor"))
    assert actions == [
        (StudioEvent.Action.REACTIVATED, "Paid in full", platform_admin.pk),
        (StudioEvent.Action.SUSPENDED, "Unpaid", platform_admin.pk),
    ]


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_suspending_needs_a_reason(platform_admin, studio_a, reason):
    response = _platform(platform_admin).post(f"/platform/studios/{studio_a.pk}/suspend/", {"reason": reason})

    page = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in page and 'id="id_reason_error"' in page
    assert _studio_status(studio_a) == Studio.Status.ACTIVE
    with schema_context("public"):
        assert not _status_events(studio_a).exists()


def test_suspending_a_suspended_studio_logs_nothing_more(platform_admin, studio_a):
    browser = _platform(platform_admin)
    for _ in range(2):
        browser.post(f"/platform/studios/{studio_a.pk}/suspend/", {"reason": "Unpaid"})

    with schema_context("public"):
        assert _status_events(studio_a).count() == 1


def test_the_api_logs_its_suspensions_with_the_admin_and_the_reason(platform_admin, studio_a):
    client = api_client(PLATFORM_HOST, token_of(platform_admin))

    suspended = client.post(f"/api/platform/studios/{studio_a.pk}/suspend/", {"reason": "Abuse report"}, format="json")
    activated = client.post(f"/api/platform/studios/{studio_a.pk}/activate/", {"reason": "Resolved"}, format="json")

    assert suspended.json()["status"] == "suspended" and activated.json()["status"] == "active"
    with schema_context("public"):
        events = list(_status_events(studio_a).values_list("action", "reason", "actor"))
    assert events == [
        (StudioEvent.Action.REACTIVATED, "Resolved", platform_admin.pk),
        (StudioEvent.Action.SUSPENDED, "Abuse report", platform_admin.pk),
    ]


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}])
@pytest.mark.parametrize("action", ["suspend", "activate"])
def test_the_api_needs_a_reason_too(platform_admin, studio_a, body, action):
    client = api_client(PLATFORM_HOST, token_of(platform_admin))
    if action == "activate":
        with schema_context("public"):
            studio_suspend(studio=studio_a, reason="Unpaid")

    response = client.post(f"/api/platform/studios/{studio_a.pk}/{action}/", body, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    expected = Studio.Status.SUSPENDED if action == "activate" else Studio.Status.ACTIVE
    assert _studio_status(studio_a) == expected
    with schema_context("public"):
        assert _status_events(studio_a).count() == (1 if action == "activate" else 0)


@pytest.mark.parametrize("reason", ["", "  ", "x" * 501])
def test_the_services_refuse_a_change_without_a_reason(platform_admin, studio_a, reason):
    with schema_context("public"), pytest.raises(ValidationFailed) as refused:
        studio_suspend(studio=studio_a, actor=platform_admin, reason=reason)

    assert list(refused.value.fields) == ["reason"]
    assert _studio_status(studio_a) == Studio.Status.ACTIVE


def test_the_django_admin_changes_no_studios_status(platform_admin, studio_a):
    """Suspending takes a reason, given on the platform's pages: the Django admin has no action for it."""
    browser = Client(HTTP_HOST=PLATFORM_HOST)
    browser.force_login(platform_admin)
    changelist = "/admin/tenants/studio/"

    answer = browser.post(changelist, {"action": "suspend", "_selected_action": [studio_a.pk]})

    assert answer.status_code in (200, 302)
    assert _studio_status(studio_a) == Studio.Status.ACTIVE
    actions = [name for name, _label in browser.get(changelist).context["action_form"].fields["action"].choices]
    assert "suspend" not in actions and "activate" not in actions


def test_the_platform_home_offers_the_studios_to_admins_only(platform_admin):
    assert _platform(platform_admin).get("/").context["is_platform_admin"] is True
    assert _platform().get("/").context["is_platform_admin"] is False
