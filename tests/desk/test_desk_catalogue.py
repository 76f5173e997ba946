"""The desk's catalogue: session types and packages made, changed, deactivated and activated again by the owner and
managers, with the API's rules (bad input is a 400 with the messages and nothing saved); a package no longer sold
keeps paying for the bookings of those who bought it, and its page says so. Trainers, clients, visitors and
another studio's staff are refused."""

from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client as Browser
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import User
from tenant_apps.bookings import services as booking_services
from tenant_apps.packages.models import SessionPackage
from tenant_apps.trainers.models import SessionType
from tests.conftest import next_monday
from tests.factories import SessionPackageFactory, SessionTypeFactory, TrainerFactory
from tests.packages.conftest import sell

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
CATALOGUE = "/desk/catalogue/"
NEW_TYPE = "/desk/catalogue/session-types/new/"
NEW_PACKAGE = "/desk/catalogue/packages/new/"


def _browser(studio, user=None) -> Browser:
    browser = Browser(HTTP_HOST=f"{studio.slug}.localhost")
    if user is not None:
        with tenant_context(studio):
            browser.force_login(user)
    return browser


@pytest.fixture
def coach(studio_a, trainer_a):
    with tenant_context(studio_a):
        return TrainerFactory(user=trainer_a, display_name="Tess Trainer")


def _session_type_form(**changes) -> dict:
    form = {
        "name": "Boxing 45",
        "description": "Pads and bags.",
        "duration_minutes": "45",
        "slot_interval_minutes": "",
        "price": "35.50",
        "color": "#16a34a",
        "buffer_before_minutes": "5",
        "buffer_after_minutes": "10",
        "min_notice_minutes": "120",
        "max_advance_days": "60",
        "requires_confirmation": "on",
        "cancellation_window_hours": "12",
        "late_cancel_forfeits_credit": "on",
        # no_show_forfeits_credit unticked: a no-show gets the credit back
    }
    form.update(changes)
    return {name: value for name, value in form.items() if value is not None}


def _package_form(**changes) -> dict:
    form = {"name": "Five pack", "description": "", "sessions_count": "5", "price": "150.00", "validity_days": "60"}
    form.update(changes)
    return {name: value for name, value in form.items() if value is not None}


def _session_types(studio) -> list[tuple]:
    with tenant_context(studio):
        return list(SessionType.objects.values_list("name", "duration_minutes", "price", "is_active"))


def _packages(studio) -> list[tuple]:
    with tenant_context(studio):
        return list(SessionPackage.objects.values_list("name", "sessions_count", "price", "is_active"))


# -- session types ----------------------------------------------------------------------------------------


def test_the_owner_adds_a_session_type_with_its_trainers_and_policies(studio_a, owner_a, coach):
    browser = _browser(studio_a, owner_a)
    assert 'name="trainers"' in browser.get(NEW_TYPE).content.decode()

    response = browser.post(NEW_TYPE, _session_type_form(trainers=[str(coach.pk)]))

    assert response.status_code == 302 and response["Location"] == CATALOGUE
    with tenant_context(studio_a):
        made = SessionType.objects.get()
        assert list(made.trainers.all()) == [coach]
    assert (made.name, made.duration_minutes, made.price, made.color) == ("Boxing 45", 45, Decimal("35.50"), "#16a34a")
    assert (made.buffer_before_minutes, made.buffer_after_minutes, made.min_notice_minutes) == (5, 10, 120)
    assert (made.max_advance_days, made.cancellation_window_hours, made.slot_interval_minutes) == (60, 12, None)
    assert made.requires_confirmation and made.late_cancel_forfeits_credit and not made.no_show_forfeits_credit
    assert made.currency == studio_a.currency
    page = browser.get(CATALOGUE).content.decode()
    assert "Boxing 45 is added to the session types." in page
    assert "Boxing 45" in page and "Tess Trainer" in page and "Offered" in page


def test_a_manager_edits_a_session_type_and_its_trainers(studio_a, manager_a, coach):
    with tenant_context(studio_a):
        session_type = SessionTypeFactory(name="PT 60", trainers=[coach])
    url = f"/desk/catalogue/session-types/{session_type.pk}/"
    browser = _browser(studio_a, manager_a)
    form = browser.get(url).content.decode()
    assert 'value="PT 60"' in form and f'value="{coach.pk}"' in form and "checked" in form

    response = browser.post(url, _session_type_form(name="PT 30", duration_minutes="30", slot_interval_minutes="15"))

    assert response.status_code == 302
    with tenant_context(studio_a):
        session_type.refresh_from_db()
        assert session_type.trainers.count() == 0  # none ticked: no trainer offers it any more
    assert (session_type.name, session_type.duration_minutes, session_type.slot_interval_minutes) == ("PT 30", 30, 15)


def test_deactivate_and_activate_a_session_type(studio_a, owner_a):
    with tenant_context(studio_a):
        session_type = SessionTypeFactory(name="PT 60")
    browser = _browser(studio_a, owner_a)
    url = f"/desk/catalogue/session-types/{session_type.pk}/"

    response = browser.post(f"{url}deactivate/")
    assert response.status_code == 302 and response["Location"] == url
    assert _session_types(studio_a) == [("PT 60", 60, Decimal("40.00"), False)]
    page = browser.get(url).content.decode()
    assert "PT 60 can no longer be booked; bookings made stay." in page and "Deactivated" in page
    assert "Activate PT 60" in page
    assert "Deactivated" in browser.get(CATALOGUE).content.decode()

    browser.post(f"{url}activate/")
    assert _session_types(studio_a) == [("PT 60", 60, Decimal("40.00"), True)]
    assert "PT 60 can be booked again." in browser.get(url).content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"price": "-1"}, "price", "Ensure this value is greater than or equal to 0."),
        ({"duration_minutes": "0"}, "duration_minutes", "Ensure this value is greater than or equal to 5."),
        ({"buffer_before_minutes": "241"}, "buffer_before_minutes", "less than or equal to 240."),
        ({"buffer_after_minutes": "-5"}, "buffer_after_minutes", "greater than or equal to 0."),
        ({"max_advance_days": "0"}, "max_advance_days", "greater than or equal to 1."),
        ({"min_notice_minutes": str(60 * 24 * 60 + 1)}, "min_notice_minutes", "less than or equal to 86400."),
        ({"trainers": ["99999"]}, "trainers", "Choose among the trainers listed."),
        ({"trainers": ["x"]}, "trainers", "Choose among the trainers listed."),
        ({"color": "blue"}, "color", "Use a hex colour such as #2563eb."),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_bad_session_type_input_is_refused_by_the_field_and_nothing_is_saved(
    studio_a, owner_a, coach, changes, field, message
):
    response = _browser(studio_a, owner_a).post(
        NEW_TYPE, _session_type_form(**{"trainers": [str(coach.pk)], **changes})
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and message in html
    assert f'id="id_{field}_error"' in html
    assert _session_types(studio_a) == []


def test_an_edit_refused_leaves_the_session_type_and_its_trainers_as_they_were(studio_a, owner_a, coach):
    with tenant_context(studio_a):
        session_type = SessionTypeFactory(name="PT 60", trainers=[coach])

    response = _browser(studio_a, owner_a).post(
        f"/desk/catalogue/session-types/{session_type.pk}/", _session_type_form(name="PT 45", price="-3", trainers=[])
    )

    assert response.status_code == 400
    assert "<h1>PT 60</h1>" in response.content.decode()
    with tenant_context(studio_a):
        session_type.refresh_from_db()
        assert list(session_type.trainers.all()) == [coach]
    assert (session_type.name, session_type.price) == ("PT 60", Decimal("40.00"))


def test_the_form_offers_the_apis_fields_with_the_apis_bounds():
    """The page and POST /api/session-types/ can't disagree: every input the API takes (but the currency, the
    studio's, and is_active, which the buttons change) is on the form, with the same range."""
    from tenant_apps.desk.catalogue import SessionTypeForm
    from tenant_apps.trainers.api import SessionTypeInput

    api_fields = SessionTypeInput().fields
    assert set(api_fields) - {"currency", "is_active"} == set(SessionTypeForm.base_fields)
    for name, rule in api_fields.items():
        field = SessionTypeForm.base_fields.get(name)
        if hasattr(rule, "min_value") and field is not None:
            assert (field.min_value, field.max_value) == (rule.min_value, rule.max_value), name


def test_a_cancellation_window_past_the_apis_bound_is_refused(studio_a, owner_a):
    response = _browser(studio_a, owner_a).post(NEW_TYPE, _session_type_form(cancellation_window_hours="100000"))
    assert response.status_code == 400
    assert "less than or equal to 1440." in response.content.decode()
    assert _session_types(studio_a) == []


def test_a_deactivated_trainer_is_offered_and_says_so(studio_a, owner_a, coach):
    with tenant_context(studio_a):
        coach.is_active = False
        coach.save()
    page = _browser(studio_a, owner_a).get(NEW_TYPE).content.decode()
    assert "Tess Trainer (not taking bookings)" in page


# -- packages ---------------------------------------------------------------------------------------------


def test_the_owner_adds_a_package_for_some_session_types(studio_a, owner_a):
    with tenant_context(studio_a):
        pt = SessionTypeFactory(name="PT 60")
        SessionTypeFactory(name="Yoga")
    browser = _browser(studio_a, owner_a)
    assert "None ticked: it pays for every session type." in browser.get(NEW_PACKAGE).content.decode()

    response = browser.post(NEW_PACKAGE, _package_form(session_types=[str(pt.pk)]))

    assert response.status_code == 302 and response["Location"] == CATALOGUE
    assert _packages(studio_a) == [("Five pack", 5, Decimal("150.00"), True)]
    with tenant_context(studio_a):
        assert list(SessionPackage.objects.get().session_types.all()) == [pt]
    page = browser.get(CATALOGUE).content.decode()
    assert "Five pack is added to the packages." in page and "On sale" in page


def test_a_package_for_no_session_type_pays_for_every_one(studio_a, manager_a):
    browser = _browser(studio_a, manager_a)
    assert browser.post(NEW_PACKAGE, _package_form()).status_code == 302
    with tenant_context(studio_a):
        assert SessionPackage.objects.get().session_types.count() == 0
    assert "Every session type" in browser.get(CATALOGUE).content.decode()


def test_a_manager_edits_a_package(studio_a, manager_a):
    with tenant_context(studio_a):
        pt = SessionTypeFactory(name="PT 60")
        package = SessionPackageFactory(name="Ten pack", session_types=[pt])
    url = f"/desk/catalogue/packages/{package.pk}/"
    browser = _browser(studio_a, manager_a)
    assert 'value="Ten pack"' in browser.get(url).content.decode()

    response = browser.post(url, _package_form(name="Twelve pack", sessions_count="12", price="330"))

    assert response.status_code == 302
    assert _packages(studio_a) == [("Twelve pack", 12, Decimal("330.00"), True)]
    with tenant_context(studio_a):
        assert package.session_types.count() == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"price": "-5"}, "price", "Ensure this value is greater than or equal to 0.01."),
        ({"price": "0"}, "price", "Ensure this value is greater than or equal to 0.01."),
        ({"sessions_count": "0"}, "sessions_count", "Ensure this value is greater than or equal to 1."),
        ({"validity_days": "0"}, "validity_days", "Ensure this value is greater than or equal to 1."),
        ({"sessions_count": "ten"}, "sessions_count", "Enter a whole number."),
        ({"session_types": ["99999"]}, "session_types", "Choose among the session types listed."),
    ],
)
def test_bad_package_input_is_refused_by_the_field_and_nothing_is_saved(studio_a, owner_a, changes, field, message):
    response = _browser(studio_a, owner_a).post(NEW_PACKAGE, _package_form(**changes))

    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and message in html
    assert f'id="id_{field}_error"' in html
    assert _packages(studio_a) == []


def test_an_edit_refused_leaves_the_package_as_it_was(studio_a, owner_a):
    with tenant_context(studio_a):
        pt = SessionTypeFactory(name="PT 60")
        package = SessionPackageFactory(name="Ten pack", session_types=[pt])

    response = _browser(studio_a, owner_a).post(
        f"/desk/catalogue/packages/{package.pk}/", _package_form(name="Changed", validity_days="0")
    )

    assert response.status_code == 400
    assert _packages(studio_a) == [("Ten pack", 10, Decimal("300.00"), True)]
    with tenant_context(studio_a):
        assert list(package.session_types.all()) == [pt]


def test_a_package_no_longer_sold_still_pays_and_its_page_says_so(studio_a, owner_a, schedule_a, booking_client_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        package = SessionPackageFactory(name="Ten pack")
        sold = sell(package, booking_client_a)
    url = f"/desk/catalogue/packages/{package.pk}/"
    browser = _browser(studio_a, owner_a)

    response = browser.post(f"{url}deactivate/")

    assert response.status_code == 302 and response["Location"] == url
    assert _packages(studio_a) == [("Ten pack", 10, Decimal("300.00"), False)]
    page = browser.get(url).content.decode()
    assert "Ten pack is no longer sold; the copies clients bought keep working." in page
    assert "No longer sold" in page and "the copies clients bought keep working" in page
    assert "1 sold copy is still in use." in page
    assert "still paying for bookings" in browser.get(CATALOGUE).content.decode()
    with tenant_context(studio_a):
        booking = booking_services.booking_create(
            trainer=trainer,
            client=booking_client_a,
            session_type=session_type,
            start_time=datetime.combine(next_monday(), time(10), tzinfo=LONDON),
        )
        sold.refresh_from_db()
    assert booking.client_package_id == sold.pk and sold.sessions_remaining == 9

    browser.post(f"{url}activate/")
    assert _packages(studio_a) == [("Ten pack", 10, Decimal("300.00"), True)]
    assert "Ten pack is on sale again." in browser.get(url).content.decode()


# -- who may -----------------------------------------------------------------------------------------------


@pytest.fixture
def catalogue_a(studio_a):
    with tenant_context(studio_a):
        return SessionTypeFactory(name="PT 60"), SessionPackageFactory(name="Ten pack")


def _urls(session_type, package) -> list[tuple[str, str]]:
    session_type_url = f"/desk/catalogue/session-types/{session_type.pk}/"
    package_url = f"/desk/catalogue/packages/{package.pk}/"
    return [
        ("get", CATALOGUE),
        ("get", NEW_TYPE),
        ("post", NEW_TYPE),
        ("get", session_type_url),
        ("post", session_type_url),
        ("post", f"{session_type_url}deactivate/"),
        ("post", f"{session_type_url}activate/"),
        ("get", NEW_PACKAGE),
        ("post", NEW_PACKAGE),
        ("get", package_url),
        ("post", package_url),
        ("post", f"{package_url}deactivate/"),
        ("post", f"{package_url}activate/"),
    ]


@pytest.mark.parametrize("who", ["trainer_a", "client_a"])
def test_trainers_and_clients_are_refused(studio_a, catalogue_a, who, request):
    browser = _browser(studio_a, request.getfixturevalue(who))
    for method, url in _urls(*catalogue_a):
        data = _session_type_form() if "session-types" in url else _package_form()
        response = getattr(browser, method)(url, data) if method == "post" else browser.get(url)
        assert response.status_code == 403, url
        assert "Catalogue" not in response.content.decode()
    assert _session_types(studio_a) == [("PT 60", 60, Decimal("40.00"), True)]
    assert _packages(studio_a) == [("Ten pack", 10, Decimal("300.00"), True)]


def test_a_trainer_is_told_who_may(studio_a, trainer_a):
    response = _browser(studio_a, trainer_a).get(CATALOGUE)
    assert "Only the studio&#x27;s owner and managers can change the session types and packages." in (
        response.content.decode()
    )


def test_a_visitor_is_sent_to_sign_in(studio_a, catalogue_a):
    browser = _browser(studio_a)
    for method, url in _urls(*catalogue_a):
        response = getattr(browser, method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    assert _session_types(studio_a) == [("PT 60", 60, Decimal("40.00"), True)]


def test_another_studios_owner_is_a_stranger_here(studio_a, studio_b, catalogue_a):
    with tenant_context(studio_b):
        owner_b = User.objects.get(email="owner@bravo.test")
    browser = _browser(studio_b, owner_b)
    browser.defaults["HTTP_HOST"] = f"{studio_a.slug}.localhost"  # the same cookie, on studio A's host
    for method, url in _urls(*catalogue_a):
        response = getattr(browser, method)(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    assert _packages(studio_a) == [("Ten pack", 10, Decimal("300.00"), True)]


def test_another_studios_records_are_not_found(studio_a, studio_b, owner_a):
    with tenant_context(studio_b):
        session_type, package = SessionTypeFactory(name="Bravo flow"), SessionPackageFactory(name="Bravo pack")
    browser = _browser(studio_a, owner_a)
    assert browser.get(f"/desk/catalogue/session-types/{session_type.pk}/").status_code == 404
    assert browser.post(f"/desk/catalogue/packages/{package.pk}/deactivate/").status_code == 404
    with tenant_context(studio_b):
        assert SessionPackage.objects.get(pk=package.pk).is_active


def test_an_unknown_trainer_id_from_another_studio_is_refused(studio_a, studio_b, owner_a):
    with tenant_context(studio_b):
        stranger = TrainerFactory(display_name="Bravo coach")
    response = _browser(studio_a, owner_a).post(NEW_TYPE, _session_type_form(trainers=[str(stranger.pk)]))
    assert response.status_code == 400 and "Choose among the trainers listed." in response.content.decode()
    assert _session_types(studio_a) == []
