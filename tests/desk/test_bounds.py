"""Days and times at the calendar's ends: every desk form takes the years the API takes (shared_apps.core.fields'
EARLIEST_YEAR to LATEST_YEAR) and refuses the others with a 400 that says so, never a 500; a page at the last (or
first) day offers no link past it."""

from datetime import date, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.test import Client as Browser
from django_tenants.utils import tenant_context

from shared_apps.core.fields import EARLIEST_YEAR, LATEST_YEAR
from tenant_apps.availability.models import AvailabilitySlot, TrainerBreak
from tenant_apps.bookings.models import Booking
from tenant_apps.bookings.services import booking_create
from tests.conftest import next_monday
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
DATE_OUT = f"Give a date between the years {EARLIEST_YEAR} and {LATEST_YEAR}."
TIME_OUT = f"Give a time between the years {EARLIEST_YEAR} and {LATEST_YEAR}."
OUT_OF_RANGE_DAYS = ["9999-12-31", "0001-01-01", f"{LATEST_YEAR + 1}-01-01", f"{EARLIEST_YEAR - 1}-12-31"]
OUT_OF_RANGE_TIMES = ["9999-12-31T23:30", "0001-01-01T00:00", f"{LATEST_YEAR + 1}-01-01T09:00"]


def _browser(studio, user=None) -> Browser:
    browser = Browser(HTTP_HOST=f"{studio.slug}.localhost")
    if user is not None:
        with tenant_context(studio):
            browser.force_login(user)
    return browser


# -- the calendar and the day ----------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["day", "week"])
@pytest.mark.parametrize("day", OUT_OF_RANGE_DAYS)
def test_the_calendar_refuses_a_day_past_the_apis_years(studio_a, owner_a, schedule_a, day, view):
    response = _browser(studio_a, owner_a).get(f"/desk/calendar/?date={day}&view={view}")
    assert response.status_code == 400
    assert DATE_OUT in response.content.decode()


@pytest.mark.parametrize("view", ["day", "week"])
def test_the_calendar_at_its_ends_offers_no_link_past_them(studio_a, owner_a, schedule_a, view):
    browser = _browser(studio_a, owner_a)

    last = browser.get(f"/desk/calendar/?date={LATEST_YEAR}-12-31&view={view}").content.decode()
    first = browser.get(f"/desk/calendar/?date={EARLIEST_YEAR}-01-01&view={view}").content.decode()

    assert 'rel="prev"' in last and 'rel="next"' not in last
    assert 'rel="next"' in first and 'rel="prev"' not in first
    # The week of 1 January 1970 starts in 1969: that day's column has no link to a day the desk refuses.
    assert f"date={EARLIEST_YEAR - 1}-" not in first and f"date={LATEST_YEAR + 1}-" not in last


@pytest.mark.parametrize("day", OUT_OF_RANGE_DAYS)
def test_the_day_refuses_a_day_past_the_apis_years(studio_a, owner_a, day):
    response = _browser(studio_a, owner_a).get(f"/desk/today/?date={day}")
    assert response.status_code == 400
    assert DATE_OUT in response.content.decode()


def test_the_day_at_its_ends_offers_no_link_past_them(studio_a, owner_a):
    browser = _browser(studio_a, owner_a)

    last = browser.get(f"/desk/today/?date={LATEST_YEAR}-12-31").content.decode()
    first = browser.get(f"/desk/today/?date={EARLIEST_YEAR}-01-01").content.decode()

    assert "Previous day" in last and "Next day" not in last
    assert "Next day" in first and "Previous day" not in first


# -- a booking and its move ------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", OUT_OF_RANGE_TIMES)
def test_the_booking_form_takes_no_start_past_the_apis_years(studio_a, manager_a, schedule_a, start):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client = ClientFactory()
    browser = _browser(studio_a, manager_a)
    form = {"client": client.pk, "trainer": trainer.pk, "session_type": session_type.pk, "start": start,
            "payment": "unpaid", "notes": ""}  # fmt: skip

    shown = browser.get(f"/desk/bookings/new/?trainer={trainer.pk}&start={quote(start)}")
    on_grid = browser.post("/desk/bookings/new/", form)
    off_grid = browser.post("/desk/bookings/new/", form | {"off_grid": "on"})

    assert shown.status_code == 200  # a start it can't hold reads as no start: the form asks for one
    assert on_grid.status_code == 400 and TIME_OUT in on_grid.content.decode()
    assert off_grid.status_code == 400 and TIME_OUT in off_grid.content.decode()
    with tenant_context(studio_a):
        assert not Booking.objects.exists()


@pytest.mark.parametrize("start", [*OUT_OF_RANGE_TIMES, "9999-12-31T23:30:00+00:00"])
def test_a_move_takes_no_start_past_the_apis_years(studio_a, manager_a, schedule_a, start):
    trainer, session_type = schedule_a
    first = datetime.combine(next_monday() + timedelta(days=1), datetime.min.time(), LONDON).replace(hour=9)
    with tenant_context(studio_a):
        booking = booking_create(trainer=trainer, client=ClientFactory(), session_type=session_type, start_time=first)

    response = _browser(studio_a, manager_a).post(f"/desk/bookings/{booking.pk}/reschedule/", {"start": start})

    assert response.status_code == 400 and TIME_OUT in response.content.decode()
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).start_time == first


# -- the trainer's hours ---------------------------------------------------------------------------------------


def _windows(studio, trainer) -> set[date]:
    with tenant_context(studio):
        return set(AvailabilitySlot.objects.filter(trainer=trainer, is_recurring=False).values_list("date", flat=True))


@pytest.mark.parametrize("day", OUT_OF_RANGE_DAYS)
def test_a_one_off_window_past_the_apis_years_is_refused(studio_a, owner_a, schedule_a, day):
    trainer, _ = schedule_a
    response = _browser(studio_a, owner_a).post(
        "/desk/hours/windows/",
        {"trainer": trainer.pk, "kind": "once", "once-date": day, "once-start_time": "09:00",
         "once-end_time": "10:00"},
    )  # fmt: skip
    assert response.status_code == 400 and DATE_OUT in response.content.decode()
    assert _windows(studio_a, trainer) == set()


def test_a_one_off_window_on_the_apis_last_day_is_taken_as_the_api_takes_it(studio_a, owner_a, schedule_a):
    trainer, _ = schedule_a
    last = date(LATEST_YEAR, 12, 31)
    desk = _browser(studio_a, owner_a).post(
        "/desk/hours/windows/",
        {"trainer": trainer.pk, "kind": "once", "once-date": last.isoformat(), "once-start_time": "13:00",
         "once-end_time": "14:00"},
    )  # fmt: skip
    api = _browser(studio_a, owner_a).post(
        "/api/availability/",
        {"trainer": trainer.pk, "is_recurring": False, "date": last.isoformat(), "start_time": "14:00",
         "end_time": "15:00"},
        content_type="application/json",
    )  # fmt: skip
    assert (desk.status_code, api.status_code) == (302, 201)
    assert _windows(studio_a, trainer) == {last}


def _breaks(studio, trainer) -> int:
    with tenant_context(studio):
        return TrainerBreak.objects.filter(trainer=trainer).count()


@pytest.mark.parametrize(
    "fields",
    [
        {"off-kind": "days", "off-start_date": "9999-12-30", "off-end_date": "9999-12-31"},
        {"off-kind": "days", "off-start_date": f"{LATEST_YEAR}-12-30", "off-end_date": "9999-12-31"},
        {"off-kind": "days", "off-start_date": "0001-01-01", "off-end_date": "0001-01-02"},
        {"off-kind": "span", "off-starts_at": "0001-01-01T09:00", "off-ends_at": "0001-01-01T10:00"},
        {"off-kind": "span", "off-starts_at": "9999-12-31T09:00", "off-ends_at": "9999-12-31T23:59"},
    ],
)
def test_time_off_past_the_apis_years_is_refused(studio_a, owner_a, schedule_a, fields):
    trainer, _ = schedule_a
    response = _browser(studio_a, owner_a).post("/desk/hours/time-off/", {"trainer": trainer.pk, **fields})
    html = response.content.decode()
    assert response.status_code == 400
    assert DATE_OUT in html or TIME_OUT in html
    assert _breaks(studio_a, trainer) == 0


def test_time_off_to_the_apis_last_day_is_saved(studio_a, owner_a, schedule_a):
    trainer, _ = schedule_a
    response = _browser(studio_a, owner_a).post(
        "/desk/hours/time-off/",
        {"trainer": trainer.pk, "off-kind": "days", "off-start_date": f"{LATEST_YEAR}-12-30",
         "off-end_date": f"{LATEST_YEAR}-12-31"},
    )  # fmt: skip
    assert response.status_code == 302
    assert _breaks(studio_a, trainer) == 1
