"""The desk's calendar in a real browser: the owner goes from a day of every trainer to the next day and to one
trainer's week, books a walk-in off the grid from a free time, and finds it on the calendar, unpaid; a trainer sees
their own calendar only and meets the 403 and 404 pages (not data) for another trainer's calendar, client and
booking; another studio's owner can't open anything. Every page accessible, at desktop and phone width."""

from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User
from tenant_apps.bookings.models import Booking
from tenant_apps.clients.models import Client
from tenant_apps.trainers.models import SessionType, Trainer
from tests.browser.conftest import check_page, server_password, studio_of
from tests.conftest import run_committed
from tests.live import live_server, tail

pytestmark = pytest.mark.django_db
OWNER = "cal-desk-owner@alpha.test"
COACHES = ("cal-desk-cora@alpha.test", "cal-desk-dev@alpha.test")
CLIENTS = ("cal-desk-wendy@alpha.test", "cal-desk-xavi@alpha.test")
BRAVO_OWNER = "cal-desk-owner@bravo.test"
PASSWORD = "a long browser passphrase"
SESSION_TYPE = "Calendar training"
ZONE = ZoneInfo("Europe/London")


def _tomorrow():
    return datetime.now(ZONE).date() + timedelta(days=1)


def _spoken(day) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def _tear_down() -> None:
    with tenant_context(studio_of("alpha")):
        Booking.objects.filter(client__email__in=CLIENTS).delete()
        SessionType.objects.filter(name=SESSION_TYPE).delete()
        Trainer.objects.filter(user__email__in=COACHES).delete()
        Client.objects.filter(email__in=CLIENTS).delete()
        User.objects.filter(email__in=[OWNER, *COACHES]).delete()
    with tenant_context(studio_of("bravo")):
        User.objects.filter(email=BRAVO_OWNER).delete()


def _set_up() -> None:
    """Alpha's owner, and two trainers who can sign in: Cora (09:00-12:00 every day) and Dev (13:00-16:00), both
    teaching one session type; Wendy, whom no one trains yet, and Xavi, booked with Dev tomorrow at 14:00. Bravo's
    owner, who can sign in to bravo only."""
    from tenant_apps.availability.services import availability_create
    from tenant_apps.clients.services import client_create
    from tenant_apps.trainers.services import session_type_create, trainer_create

    with tenant_context(studio_of("alpha")), transaction.atomic():
        owner = User.objects.create_user(OWNER, first_name="Olive", last_name="Owner", role=Role.OWNER)
        owner.password = server_password(PASSWORD)
        owner.save(update_fields=["password"])
        cora = trainer_create(email=COACHES[0], first_name="Cora", last_name="Calder")
        dev = trainer_create(email=COACHES[1], first_name="Dev", last_name="Dunmore")
        for trainer, hours in ((cora, ("09:00", "12:00")), (dev, ("13:00", "16:00"))):
            trainer.user.password = server_password(PASSWORD)
            trainer.user.save(update_fields=["password"])
            for day in range(7):
                availability_create(trainer=trainer, day_of_week=day, start_time=hours[0], end_time=hours[1])
        session_type = session_type_create(
            name=SESSION_TYPE, duration_minutes=60, price="35.00", trainers=[cora, dev], max_advance_days=60
        )
        client_create(email=CLIENTS[0], first_name="Wendy", last_name="Walker", phone="+447400222333")
        xavi = client_create(email=CLIENTS[1], first_name="Xavi", last_name="Xu", phone="+447400444555")
        start = datetime.combine(_tomorrow(), datetime.min.time(), ZONE).replace(hour=14)
        Booking.objects.create(
            trainer=dev,
            client=xavi,
            session_type=session_type,
            start_time=start,
            end_time=start + timedelta(hours=1),
            blocked_from=start,
            blocked_until=start + timedelta(hours=1),
            price=Decimal("35.00"),
            currency="GBP",
        )
    with tenant_context(studio_of("bravo")), transaction.atomic():
        bravo = User.objects.create_user(BRAVO_OWNER, first_name="Bo", last_name="Bravo", role=Role.OWNER)
        bravo.password = server_password(PASSWORD)
        bravo.save(update_fields=["password"])


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        run_committed(_tear_down)
        failure = run_committed(_set_up)
        if isinstance(failure, Exception):
            raise failure
    try:
        with live_server() as (port, log):
            yield {"url": f"http://alpha.localhost:{port}", "bravo": f"http://bravo.localhost:{port}", "log": log}
    finally:
        with django_db_blocker.unblock():
            run_committed(_tear_down)


def _sign_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()


def _fits_a_phone(page) -> None:
    """At 375 px the week's grid scrolls inside its own box; the page itself doesn't get wider."""
    size = page.viewport_size
    page.set_viewport_size({"width": 375, "height": 800})
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        grid = page.locator(".cal-scroll").first
        assert grid.evaluate("(element) => element.scrollWidth > element.clientWidth")
    finally:
        page.set_viewport_size(size)


def _expected_refusal(page, path: str) -> None:
    """A refusal the test asked for (its status is logged by the page): not a problem of the page."""
    page.console_problems[:] = [problem for problem in page.console_problems if path not in problem]


def test_the_owner_books_a_walk_in_off_the_grid_from_a_trainers_week(page, server):
    _sign_in(page, server["url"], OWNER)
    assert page.url.endswith("/desk/today/"), (page.url, tail(server["log"]))

    # The day: one column per trainer.
    page.get_by_role("link", name="Calendar").click()
    page.wait_for_url("**/desk/calendar/")
    heads = page.locator(".cal-grid thead").inner_text()
    assert "Cora Calder" in heads and "Dev Dunmore" in heads
    check_page(page, "desk-calendar-day")

    # The next day, swapped in by htmx; the URL keeps it. Xavi's session is in Dev's column.
    tomorrow = _tomorrow()
    page.get_by_role("link", name="Next day").click()
    page.wait_for_url(f"**date={tomorrow.isoformat()}**")
    assert page.locator("#cal-heading").inner_text() == f"{_spoken(tomorrow)} {tomorrow:%Y}"
    xavi = page.locator(".cal-card", has_text="Xavi Xu")
    assert "14:00" in xavi.inner_text() and "Unpaid" in xavi.inner_text()

    # Cora's week, then her free time tomorrow at 10:00 leads to the booking form for it.
    page.get_by_role("link", name="Week Cora Calder").click()
    page.wait_for_url("**view=week**")
    assert "trainer=" in page.url and page.locator(".cal-section h3").all_inner_texts() == ["Cora Calder"]
    check_page(page, "desk-calendar-week")
    _fits_a_phone(page)
    page.get_by_role("link", name=f"Book Cora Calder on {_spoken(tomorrow)} at 10:00").click()
    page.wait_for_url("**/desk/bookings/new/**")
    assert page.get_by_label("Trainer", exact=True).input_value() == str(_trainer_id(COACHES[0]))
    assert page.get_by_label("Start (Europe/London)").input_value() == f"{tomorrow.isoformat()}T10:00"

    # Wendy, found by name; a walk-in at 10:07, off the grid, to pay at the studio.
    page.get_by_label("Find a client by name, email or phone").fill("Wendy")
    page.locator("#client-results").get_by_role("link", name="Wendy Walker").click()
    page.get_by_role("link", name="Change client").wait_for()
    page.get_by_label("Start (Europe/London)").fill(f"{tomorrow.isoformat()}T10:07")
    page.get_by_label("Off the grid", exact=False).check()
    page.get_by_label("Unpaid: pay at the studio").check()
    check_page(page, "desk-calendar-walk-in")
    page.get_by_role("button", name="Book", exact=True).click()

    # The panel shows it.
    page.get_by_text(f"Booked {SESSION_TYPE} for Wendy Walker.").wait_for()
    facts = page.locator(".facts").inner_text()
    assert "Wendy Walker" in facts and "10:07\u201311:07" in facts and "To pay at the studio" in facts, facts
    assert "Booked outside the offered times." in page.inner_text("main")
    with tenant_context(studio_of("alpha")):
        booking = Booking.objects.get(client__email=CLIENTS[0])
    assert booking.start_time == datetime.combine(tomorrow, datetime.min.time(), ZONE).replace(hour=10, minute=7)
    assert booking.payment_state == "unpaid"
    check_page(page, "desk-calendar-walk-in-booked")

    # Back on the calendar, Cora's day (chosen on the form) shows it with the client's name and "Unpaid".
    page.get_by_role("link", name="Calendar").click()
    page.get_by_label("Date").fill(tomorrow.isoformat())
    page.get_by_label("Trainer", exact=True).select_option(label="Cora Calder")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**date={tomorrow.isoformat()}**")
    card = page.locator(".cal-card", has_text="Wendy Walker")
    assert "10:07" in card.inner_text() and "Unpaid" in card.inner_text(), card.inner_text()
    assert page.locator(".cal-card", has_text="Xavi Xu").count() == 0
    check_page(page, "desk-calendar-day-booked")


def _trainer_id(email: str) -> int:
    with tenant_context(studio_of("alpha")):
        return Trainer.objects.get(user__email=email).pk


def test_a_trainer_sees_their_own_calendar_only(page, server):
    _sign_in(page, server["url"], COACHES[0])
    page.get_by_role("link", name="Calendar").click()
    page.wait_for_url("**/desk/calendar/")
    assert page.locator(".cal-grid thead th").count() == 2  # the times, and her column
    assert "Cora Calder" in page.locator(".cal-grid thead").inner_text()
    assert "Dev Dunmore" not in page.content()
    check_page(page, "desk-calendar-trainer")

    # Dev's week: the 403 page, with none of his data.
    other = "/desk/calendar/?" + urlencode({"view": "week", "trainer": _trainer_id(COACHES[1])})
    answer = page.goto(f"{server['url']}{other}")
    assert answer.status == 403
    assert page.get_by_role("heading", name="You can't open this page").is_visible()
    assert "You can open your own calendar only." in page.inner_text("main")
    assert "Xavi" not in page.content() and "Dev Dunmore" not in page.content()
    _expected_refusal(page, "/desk/calendar/")
    check_page(page, "desk-calendar-forbidden")

    # Xavi, whom she doesn't train, and his booking with Dev: not found.
    with tenant_context(studio_of("alpha")):
        xavi = Client.objects.get(email=CLIENTS[1])
        booking_id = Booking.objects.get(client=xavi).pk
    for path in (f"/desk/clients/{xavi.pk}/", f"/desk/bookings/{booking_id}/"):
        answer = page.goto(f"{server['url']}{path}")
        assert answer.status == 404, path
        assert "Page not found" in page.inner_text("body") and "Xavi" not in page.content()
        _expected_refusal(page, path)
        check_page(page, f"desk-calendar-not-found-{path.split('/')[2]}")


def test_another_studios_owner_opens_nothing(page, server):
    _sign_in(page, server["bravo"], BRAVO_OWNER)
    assert page.url.endswith("/desk/today/"), (page.url, tail(server["log"]))

    # Bravo's session cookie, sent to alpha's host: alpha's sign-in page, and none of its data.
    alpha_cookies = [
        {"name": cookie["name"], "value": cookie["value"], "url": server["url"]}
        for cookie in page.context.cookies(server["bravo"])
    ]
    assert any(cookie["name"] == "sessionid" for cookie in alpha_cookies)
    page.context.add_cookies(alpha_cookies)
    for path in ("/desk/", "/desk/calendar/?view=week"):
        page.goto(f"{server['url']}{path}")
        assert "/accounts/login/" in page.url, page.url
        assert page.get_by_label("Password").is_visible()
        content = page.content()
        assert "Cora Calder" not in content and "Xavi" not in content and "Wendy" not in content
    check_page(page, "desk-calendar-other-studio")
