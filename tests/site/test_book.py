"""Book (/book/): a signed-in client picks a session type, a trainer (or any), a free time in a week, says which
package pays, and books through the API's own services; nobody books for someone else through the page."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context, tenant_context

from tenant_apps.bookings.models import Booking
from tenant_apps.bookings.services import booking_create
from tenant_apps.bookings.tokens import booking_manage_token
from tenant_apps.packages.models import ClientPackage
from tenant_apps.packages.services import package_assign
from tenants.models import Studio
from tests.conftest import next_monday
from tests.factories import (
    ClientFactory,
    SessionPackageFactory,
    SessionTypeFactory,
    TrainerFactory,
    UserFactory,
    WindowFactory,
)

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def _browser(user, studio) -> Client:
    browser = Client(HTTP_HOST=f"{studio.slug}.localhost")
    with tenant_context(studio):  # the session and the user live in the studio's schema
        browser.force_login(user)
    return browser


def _page(browser: Client, path: str, **headers) -> str:
    response = browser.get(path, headers=headers)
    assert response.status_code == 200, response
    return response.content.decode()


def _start(days_ahead: int = 0, hour: int = 9) -> datetime:
    """A start on the grid of schedule_a (09:00-12:00 London, every day), next week or later."""
    day = next_monday() + timedelta(days=days_ahead)
    return datetime.combine(day, datetime.min.time(), LONDON).replace(hour=hour)


def _details_url(session_type, trainer, start: datetime) -> str:
    trainer_param = "any" if trainer is None else trainer.pk
    return f"/book/details/?type={session_type.pk}&trainer={trainer_param}&start={quote(start.isoformat())}"


def _sell(studio, client, *, name: str = "Five pack", count: int = 5, validity_days: int = 60) -> ClientPackage:
    with tenant_context(studio):
        package = SessionPackageFactory(name=name, sessions_count=count, price="200.00", validity_days=validity_days)
        return package_assign(package=package, client=client, payment_method="cash", amount_paid=Decimal("200.00"))


# -- steps ---------------------------------------------------------------------------------------------------


def test_the_steps_lead_from_a_session_type_to_a_trainer_or_any_to_a_week_of_free_times(
    studio_a, client_a, booking_client_a, schedule_a
):
    trainer, session_type = schedule_a
    browser = _browser(client_a, studio_a)

    types_page = _page(browser, "/book/")
    trainers_page = _page(browser, f"/book/?type={session_type.pk}")
    week_page = _page(browser, f"/book/?type={session_type.pk}&trainer={trainer.pk}&week={next_monday()}")
    any_page = _page(browser, f"/book/?type={session_type.pk}&trainer=any&week={next_monday()}")

    assert f'href="/book/?type={session_type.pk}"' in types_page and "PT 60" in types_page
    assert "Any available trainer" in trainers_page and "Tess Trainer" in trainers_page
    for page in (week_page, any_page):
        # Monday to Sunday, each with 09:00, 10:00 and 11:00 in the studio's zone, which the page names.
        assert page.count('class="slot"') == 21
        assert "Europe/London" in page
        assert quote(_start(0, 9).isoformat()) in page
        assert "<!doctype html>" in page
    assert 'data-instant="' + _start(2, 10).isoformat() + '"' in week_page


def test_the_week_arrows_swap_only_the_week_for_htmx_and_the_whole_page_otherwise(
    studio_a, client_a, booking_client_a, schedule_a
):
    trainer, session_type = schedule_a
    browser = _browser(client_a, studio_a)
    path = f"/book/?type={session_type.pk}&trainer={trainer.pk}&week={next_monday()}"

    whole = browser.get(path)
    answer = browser.get(path, headers={"HX-Request": "true"})
    whole, partial = whole.content.decode(), answer.content.decode()

    assert "<!doctype html>" in whole and 'id="week"' in whole and "htmx" in whole
    assert "<!doctype html>" not in partial and 'id="week"' not in partial
    assert partial.count('class="slot"') == 21
    assert "HX-Request" in answer["Vary"]
    following = (next_monday() + timedelta(days=7)).isoformat()
    assert re.search(rf'hx-get="[^"]*week={following}[^"]*" hx-target="#week" hx-push-url="true"', partial)
    assert re.search(rf'href="[^"]*week={following}', partial)  # a plain link too, for no JavaScript


def test_an_empty_week_links_to_the_first_week_with_a_free_time(studio_a, client_a, booking_client_a):
    with tenant_context(studio_a):
        trainer = TrainerFactory(user=UserFactory(role="trainer", email="far@alpha.test"), display_name="Far")
        day = next_monday(3)
        WindowFactory(
            trainer=trainer, day_of_week=0, is_recurring=False, date=day, start_time="09:00", end_time="10:00"
        )
        session_type = SessionTypeFactory(name="Far away", trainers=[trainer])

    page = _page(_browser(client_a, studio_a), f"/book/?type={session_type.pk}&trainer={trainer.pk}")

    assert "No free times this week" in page
    assert f"week={day.isoformat()}" in page


def test_the_first_free_week_link_is_found_when_followed_and_names_the_week(studio_a, client_a, booking_client_a):
    """A later week with free times links to ?week=first, which redirects to the first week that has one."""
    with tenant_context(studio_a):
        trainer = TrainerFactory(user=UserFactory(role="trainer", email="twice@alpha.test"), display_name="Twice")
        first, later = next_monday(2), next_monday(4)
        for day in (first, later):
            WindowFactory(
                trainer=trainer, day_of_week=0, is_recurring=False, date=day, start_time="09:00", end_time="10:00"
            )
        session_type = SessionTypeFactory(name="Twice", trainers=[trainer])
    browser = _browser(client_a, studio_a)
    base = f"/book/?type={session_type.pk}&trainer={trainer.pk}"

    page = _page(browser, f"{base}&week={later.isoformat()}")
    assert "week=first" in page

    answer = browser.get(f"{base}&week=first&tz=local")

    assert answer.status_code == 302
    assert f"week={first.isoformat()}" in answer["Location"]
    assert f"type={session_type.pk}" in answer["Location"]
    assert "tz=local" in answer["Location"]


def test_with_nothing_free_at_all_no_first_week_link_is_offered(studio_a, client_a, booking_client_a):
    with tenant_context(studio_a):
        trainer = TrainerFactory(user=UserFactory(role="trainer", email="never@alpha.test"), display_name="Never")
        session_type = SessionTypeFactory(name="Never", trainers=[trainer])

    page = _page(_browser(client_a, studio_a), f"/book/?type={session_type.pk}&trainer={trainer.pk}")

    assert "No free times this week" in page
    assert "week=first" not in page
    assert "First week with a free time" not in page


def test_the_week_view_takes_the_same_number_of_queries_for_one_trainer_or_many(
    studio_a, client_a, booking_client_a, schedule_a, settings
):
    settings.AVAILABILITY_CACHE_SECONDS = 0  # the week computed every time (a cached one takes fewer still)
    _trainer, session_type = schedule_a
    browser = _browser(client_a, studio_a)
    path = f"/book/?type={session_type.pk}&trainer=any&week={next_monday()}"

    def queries() -> list[str]:
        _page(browser, path)  # the host's lookup, cached after the first request, is not the page's
        with CaptureQueriesContext(connection) as captured:
            _page(browser, path)
        return [query["sql"][:120] for query in captured]

    few = queries()
    with tenant_context(studio_a):
        for number in range(5):  # more trainers who offer it, more windows, more bookings
            other = TrainerFactory(user=UserFactory(role="trainer", email=f"t{number}@alpha.test"))
            WindowFactory(trainer=other, day_of_week=number, start_time="13:00", end_time="15:00")
            session_type.trainers.add(other)

    many = queries()
    assert len(many) == len(few), many


# -- details and booking -------------------------------------------------------------------------------------


def test_details_show_the_package_that_will_pay_and_booking_spends_its_credit(
    studio_a, client_a, booking_client_a, schedule_a
):
    trainer, session_type = schedule_a
    later = _sell(studio_a, booking_client_a, name="Long pack", validity_days=90)
    sooner = _sell(studio_a, booking_client_a, name="Short pack", validity_days=30)
    browser = _browser(client_a, studio_a)
    url = _details_url(session_type, trainer, _start(1, 10))

    page = _page(browser, url)
    response = browser.post(url, {"payment": str(sooner.pk), "notes": "Knee is better"})

    assert "Short pack: 5 credits left" in page and "Long pack: 5 credits left" in page
    assert re.search(rf'value="{sooner.pk}"[^>]*checked', page)  # the one that expires first, as the API picks
    assert response.status_code == 302
    with tenant_context(studio_a):
        booking = Booking.objects.get(client=booking_client_a)
        sooner.refresh_from_db()
        later.refresh_from_db()
    assert response["Location"] == f"/book/done/{booking.pk}/"
    assert (booking.trainer, booking.start_time, booking.notes) == (trainer, _start(1, 10), "Knee is better")
    assert booking.client_package_id == sooner.pk and booking.payment_state == "credit"
    assert (sooner.sessions_remaining, later.sessions_remaining) == (4, 5)
    done = _page(browser, response["Location"])
    assert "Short pack: 4 credits left" in done


def test_the_client_can_choose_another_package_or_to_pay_at_the_studio(
    studio_a, client_a, booking_client_a, schedule_a
):
    trainer, session_type = schedule_a
    later = _sell(studio_a, booking_client_a, name="Long pack", validity_days=90)
    sooner = _sell(studio_a, booking_client_a, name="Short pack", validity_days=30)
    browser = _browser(client_a, studio_a)

    browser.post(_details_url(session_type, trainer, _start(1, 9)), {"payment": str(later.pk)})
    browser.post(_details_url(session_type, trainer, _start(1, 10)), {"payment": "studio"})

    with tenant_context(studio_a):
        first, second = Booking.objects.filter(client=booking_client_a).order_by("start_time")
        balances = [ClientPackage.objects.get(pk=pk).sessions_remaining for pk in (sooner.pk, later.pk)]
    assert first.client_package_id == later.pk
    assert second.client_package_id is None and second.payment_state == "unpaid"
    assert balances == [5, 4]


def test_any_available_trainer_books_through_the_any_trainer_service(studio_a, client_a, booking_client_a, schedule_a):
    trainer, session_type = schedule_a
    browser = _browser(client_a, studio_a)

    response = browser.post(_details_url(session_type, None, _start(2, 11)), {"payment": "studio"})

    assert response.status_code == 302
    with tenant_context(studio_a):
        booking = Booking.objects.get(client=booking_client_a)
    assert booking.trainer == trainer and booking.start_time == _start(2, 11)


def test_a_refusal_shows_on_the_form_with_a_summary_and_by_the_field(studio_a, client_a, booking_client_a, schedule_a):
    trainer, session_type = schedule_a
    package = _sell(studio_a, booking_client_a, name="Nearly gone", count=1)
    browser = _browser(client_a, studio_a)
    url = _details_url(session_type, trainer, _start(1, 9))
    _page(browser, url)  # the page offered the package while it still had a credit
    with tenant_context(studio_a):
        ClientPackage.objects.filter(pk=package.pk).update(sessions_remaining=0)

    response = browser.post(url, {"payment": str(package.pk)})
    missing = browser.post(url, {"payment": ""})

    page = response.content.decode()
    # The package is no longer a choice: the form says so, at the top and by the field; nothing was booked.
    assert response.status_code == 400
    assert 'class="error-summary"' in page and 'href="#id_payment_0"' in page and 'id="payment-error"' in page
    assert missing.status_code == 400 and "This field is required." in missing.content.decode()
    with tenant_context(studio_a):
        assert not Booking.objects.filter(client=booking_client_a).exists()


def test_a_service_refusal_uses_the_apis_words_on_the_form(studio_a, client_a, booking_client_a, schedule_a):
    trainer, session_type = schedule_a
    browser = _browser(client_a, studio_a)
    with tenant_context(studio_a):
        session_type.min_notice_minutes = 60 * 24 * 30
        session_type.save(update_fields=["min_notice_minutes"])

    response = browser.post(_details_url(session_type, trainer, _start(1, 9)), {"payment": "studio"})

    page = response.content.decode()
    assert response.status_code == 400
    assert "This session needs 43200 minutes&#x27; notice." in page and 'class="error-summary"' in page


def test_a_time_taken_meanwhile_answers_just_taken_with_the_nearest_free_times(
    studio_a, client_a, booking_client_a, schedule_a
):
    trainer, session_type = schedule_a
    browser = _browser(client_a, studio_a)
    start = _start(1, 10)
    with tenant_context(studio_a):
        booking_create(trainer=trainer, client=ClientFactory(), session_type=session_type, start_time=start)

    response = browser.post(_details_url(session_type, trainer, start), {"payment": "studio"})

    page = response.content.decode()
    assert response.status_code == 409
    assert "just taken" in page
    # The nearest free ones, around the time asked for; not the taken one.
    assert quote(_start(1, 9).isoformat()) in page and quote(_start(1, 11).isoformat()) in page
    assert quote(start.isoformat()) not in page
    with tenant_context(studio_a):
        assert not Booking.objects.filter(client=booking_client_a).exists()


# -- done and the calendar file ------------------------------------------------------------------------------


def test_done_page_has_the_time_in_the_studios_zone_a_calendar_file_and_the_manage_link(
    studio_a, client_a, booking_client_a, schedule_a
):
    trainer, session_type = schedule_a
    browser = _browser(client_a, studio_a)
    response = browser.post(_details_url(session_type, trainer, _start(3, 11)), {"payment": "studio"})
    with tenant_context(studio_a):
        booking = Booking.objects.get(client=booking_client_a)
        token = booking_manage_token(booking)

    done = _page(browser, response["Location"])
    ics = browser.get(f"/book/done/{booking.pk}/calendar.ics")
    again = browser.get(f"/book/done/{booking.pk}/calendar.ics")

    assert f"{_start(3, 11):%A %-d %B %Y}, 11:00 to 12:00 (Europe/London)" in done
    assert f'href="/b/{token}/"' in done
    assert ics["Content-Type"] == "text/calendar" and "attachment" in ics["Content-Disposition"]
    event = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")[0]
    assert str(event["UID"]) == f"booking-{booking.pk}@alpha.localhost"
    assert str(icalendar.Calendar.from_ical(again.content).walk("VEVENT")[0]["UID"]) == str(event["UID"])
    assert event.decoded("DTSTART") == _start(3, 11)
    assert "PT 60 with Tess Trainer" in str(event["SUMMARY"])


def test_another_clients_done_page_and_calendar_file_are_not_found(studio_a, client_a, booking_client_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        other = booking_create(
            trainer=trainer, client=ClientFactory(), session_type=session_type, start_time=_start(1, 9)
        )
    browser = _browser(client_a, studio_a)

    assert browser.get(f"/book/done/{other.pk}/").status_code == 404
    assert browser.get(f"/book/done/{other.pk}/calendar.ics").status_code == 404


# -- who may book --------------------------------------------------------------------------------------------


def _guests_off(studio) -> None:
    """Signing in as the only way to book (with guests on, a visitor may book as a guest: test_book_guest.py)."""
    with schema_context("public"):
        Studio.objects.filter(pk=studio.pk).update(guest_booking_enabled=False)


def test_a_visitor_who_is_not_signed_in_is_sent_to_log_in_and_back(studio_a, schedule_a):
    trainer, session_type = schedule_a
    _guests_off(studio_a)
    url = _details_url(session_type, trainer, _start(1, 9))

    response = Client(HTTP_HOST="alpha.localhost").get(url)
    posted = Client(HTTP_HOST="alpha.localhost").post(url, {"payment": "studio"})

    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=" + quote(url, safe="/")
    assert posted.status_code == 302 and posted["Location"].startswith("/accounts/login/")
    with tenant_context(studio_a):
        assert not Booking.objects.exists()


@pytest.mark.parametrize("who", ["trainer_a", "manager_a", "owner_a"])
def test_staff_cannot_book_for_anyone_through_the_page(studio_a, schedule_a, booking_client_a, who, request):
    trainer, session_type = schedule_a
    url = _details_url(session_type, trainer, _start(1, 9))
    browser = _browser(request.getfixturevalue(who), studio_a)

    page = browser.get(url)
    response = browser.post(url, {"payment": "studio", "client": booking_client_a.pk})

    assert page.status_code == 403 and "Booking here is for clients" in page.content.decode()
    assert response.status_code == 403
    with tenant_context(studio_a):
        assert not Booking.objects.exists()


def test_a_client_of_another_studio_is_sent_to_log_in_here(studio_a, studio_b, client_b, schedule_a):
    trainer, session_type = schedule_a
    _guests_off(studio_a)
    browser = _browser(client_b, studio_b)
    browser.defaults["HTTP_HOST"] = "alpha.localhost"

    response = browser.post(_details_url(session_type, trainer, _start(1, 9)), {"payment": "studio"})

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    with tenant_context(studio_a):
        assert not Booking.objects.exists()


def test_a_client_books_only_for_themselves_whatever_the_form_says(studio_a, client_a, booking_client_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        someone = ClientFactory()
        their_package = package_assign(
            package=SessionPackageFactory(), client=someone, payment_method="cash", amount_paid=Decimal("1")
        )
    browser = _browser(client_a, studio_a)

    response = browser.post(
        _details_url(session_type, trainer, _start(1, 9)), {"payment": str(their_package.pk), "client": someone.pk}
    )

    assert response.status_code == 400  # not one of this client's packages: not a choice
    with tenant_context(studio_a):
        assert not Booking.objects.exists()
        assert ClientPackage.objects.get(pk=their_package.pk).sessions_remaining == their_package.sessions_remaining


@pytest.mark.parametrize("start", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:00-14:00"])
def test_a_start_at_the_ends_of_the_calendar_is_not_found_rather_than_an_error(
    studio_a, client_a, booking_client_a, schedule_a, start
):
    trainer, session_type = schedule_a

    response = _browser(client_a, studio_a).get(
        f"/book/details/?type={session_type.pk}&trainer={trainer.pk}&start={quote(start)}"
    )

    assert response.status_code == 404
