"""Two browsers take the same free slot at once: one gets the booking, the other the "just taken" page with the
nearest free times, and the slot holds exactly one active booking. And the booking flow on a 375 px phone, with
the keyboard alone. Every page is checked with axe."""

import re
from datetime import datetime, time
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User
from tenant_apps.bookings.models import ACTIVE_STATUSES, Booking, BookingEvent
from tenant_apps.clients.models import Client
from tenant_apps.packages.models import CreditTransaction
from tenant_apps.trainers.models import SessionType, Trainer
from tests.browser.conftest import check_page, server_password, studio_of
from tests.conftest import next_monday, run_committed
from tests.live import live_server, tail

pytestmark = pytest.mark.django_db
PASSWORD = "a long browser passphrase"
RACERS = ("race-one@alpha.test", "race-two@alpha.test")
PHONE_CLIENT = "race-phone@alpha.test"
CLIENTS = (*RACERS, PHONE_CLIENT)
# One trainer and session type for the race, another for the phone: the two tests never want the same slot.
RACE_COACH, PHONE_COACH = "race-coach@alpha.test", "race-phone-coach@alpha.test"
RACE_TYPE, PHONE_TYPE = "Race training", "Phone training"
ZONE = ZoneInfo("Europe/London")


def _tear_down() -> None:
    with tenant_context(studio_of("alpha")):
        bookings = Booking.objects.filter(client__email__in=CLIENTS)
        CreditTransaction.objects.filter(client_package__client__email__in=CLIENTS).delete()
        BookingEvent.objects.filter(booking__in=bookings).delete()
        bookings.delete()
        SessionType.objects.filter(name__in=[RACE_TYPE, PHONE_TYPE]).delete()
        Trainer.objects.filter(user__email__in=[RACE_COACH, PHONE_COACH]).delete()
        Client.objects.filter(email__in=CLIENTS).delete()
        User.objects.filter(email__in=[*CLIENTS, RACE_COACH, PHONE_COACH]).delete()


def _set_up() -> None:
    """Three clients with passwords (hashed as the server hashes) and no package (they pay at the studio); two
    trainers free 09:00-12:00 every day, each teaching a session type of their own."""
    from tenant_apps.availability.services import availability_create
    from tenant_apps.clients.services import client_create
    from tenant_apps.trainers.services import session_type_create, trainer_create

    with tenant_context(studio_of("alpha")), transaction.atomic():
        for index, email in enumerate(CLIENTS):
            user = User.objects.create_user(email, first_name="Racer", last_name=str(index), role=Role.CLIENT)
            user.password = server_password(PASSWORD)
            user.save(update_fields=["password"])
            client_create(email=email, first_name="Racer", last_name=str(index), user=user)
        for email, last_name, name in ((RACE_COACH, "Quick", RACE_TYPE), (PHONE_COACH, "Small", PHONE_TYPE)):
            trainer = trainer_create(email=email, first_name="Robin", last_name=last_name)
            for day in range(7):
                availability_create(trainer=trainer, day_of_week=day, start_time="09:00", end_time="12:00")
            session_type_create(name=name, duration_minutes=60, price="40.00", trainers=[trainer], max_advance_days=60)


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        run_committed(_tear_down)
        failure = run_committed(_set_up)
        if isinstance(failure, Exception):
            raise failure
    try:
        with live_server() as (port, log):
            yield {"url": f"http://alpha.localhost:{port}", "log": log}
    finally:
        with django_db_blocker.unblock():
            run_committed(_tear_down)


def _collecting_page(context):
    """A page that collects console errors and failed responses like the ``page`` fixture's."""
    page = context.new_page()
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(f"{page.url}: {message.text}"))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda answer: answer.status >= 400 and problems.append(f"{answer.status} {answer.url}"))
    page.console_problems = problems
    return page


def _sign_in(page, url: str, email: str, next_path: str = "/book/") -> None:
    page.goto(f"{url}/accounts/login/?next={next_path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()


def _ids() -> dict[str, int]:
    with tenant_context(studio_of("alpha")):
        return {
            "race_type": SessionType.objects.get(name=RACE_TYPE).pk,
            "race_trainer": Trainer.objects.get(user__email=RACE_COACH).pk,
        }


def test_two_browsers_take_the_same_slot_and_one_gets_just_taken(browser, server):
    ids = run_committed(_ids)
    assert not isinstance(ids, Exception), ids
    start = datetime.combine(next_monday(), time(10), tzinfo=ZONE)
    details = (
        f"{server['url']}/book/details/?type={ids['race_type']}&trainer={ids['race_trainer']}"
        f"&start={quote(start.isoformat())}"
    )
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in RACERS]
    try:
        pages = [_collecting_page(context) for context in contexts]
        for page, email in zip(pages, RACERS, strict=True):
            _sign_in(page, server["url"], email)
            assert page.url.endswith("/book/"), (page.url, tail(server["log"]))
            page.goto(details)
            assert page.get_by_role("heading", name="Check your booking").is_visible(), tail(server["log"])
            assert page.get_by_label("Pay at the studio").is_checked()

        # Both submit at once: neither click waits for its navigation before the other is pressed.
        for page in pages:
            page.get_by_role("button", name="Book this session").click(no_wait_after=True)
        answer = re.compile("You're booked|Sorry, that time was just taken")
        for page in pages:
            page.get_by_role("heading", name=answer, level=1).wait_for()

        booked = [page for page in pages if page.get_by_role("heading", name="You're booked").is_visible()]
        taken = [page for page in pages if page.get_by_role("heading", name="just taken", level=1).is_visible()]
        assert len(booked) == 1 and len(taken) == 1, tail(server["log"])
        check_page(booked[0], "book-race-booked")

        loser = taken[0]
        nearest = loser.locator("a.slot")
        assert nearest.count() > 0
        # The nearest free times leave the slot that was taken out, and each leads to the details step.
        offered = [nearest.nth(index).locator("time").get_attribute("datetime") for index in range(nearest.count())]
        assert all(datetime.fromisoformat(value) != start for value in offered), offered
        assert "/book/details/?" in nearest.first.get_attribute("href")
        # The page answers 409 on purpose; anything else logged is a problem.
        loser.console_problems[:] = [
            problem for problem in loser.console_problems if not ("409" in problem and "/book/details/" in problem)
        ]
        check_page(loser, "book-race-just-taken")
    finally:
        for context in contexts:
            context.close()

    def active_bookings() -> list[str]:
        with tenant_context(studio_of("alpha")):
            found = Booking.objects.filter(
                session_type__name=RACE_TYPE, start_time=start, status__in=ACTIVE_STATUSES
            ).values_list("client__email", flat=True)
            return list(found)

    owners = run_committed(active_bookings)
    assert isinstance(owners, list), owners
    assert len(owners) == 1 and owners[0] in RACERS, owners


def _tab_to(page, matches: str, *, limit: int = 150) -> None:
    """Press Tab until the focused element satisfies the JavaScript predicate ``matches`` (on ``element``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const element = document.activeElement; return !!element && ({matches}); }}"):
            return
    raise AssertionError(f"no focusable element matching {matches} on {page.url}")


def test_a_client_books_on_a_phone_with_the_keyboard_alone(browser, server):
    context = browser.new_context(viewport={"width": 375, "height": 800}, is_mobile=True, has_touch=True)
    try:
        page = _collecting_page(context)
        _sign_in(page, server["url"], PHONE_CLIENT)
        assert page.url.endswith("/book/"), (page.url, tail(server["log"]))
        check_page(page, "book-phone-1-session")

        _tab_to(page, f"element.tagName === 'A' && element.textContent.trim() === '{PHONE_TYPE}'")
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Choose a trainer").wait_for()
        check_page(page, "book-phone-2-trainer")

        _tab_to(page, "element.tagName === 'A' && element.textContent.includes('Robin Small')")
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Choose a time", level=1).wait_for()
        if page.locator("a.slot").count() == 0:  # late on a Sunday: this week has nothing left
            _tab_to(page, "element.rel === 'next'")
            page.keyboard.press("Enter")
            page.wait_for_url("**week=*")
            page.locator("a.slot").first.wait_for()
        check_page(page, "book-phone-3-week")

        _tab_to(page, "element.classList.contains('slot')")
        chosen = page.evaluate("() => document.activeElement.querySelector('time').getAttribute('datetime')")
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Check your booking").wait_for()
        check_page(page, "book-phone-4-details")

        _tab_to(page, "element.tagName === 'BUTTON' && element.textContent.trim() === 'Book this session'")
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="You're booked").wait_for()
        assert page.viewport_size["width"] == 375
        # Nothing runs off the side of a phone's screen.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
        check_page(page, "book-phone-5-done")
    finally:
        context.close()

    def booked_start() -> list[datetime]:
        with tenant_context(studio_of("alpha")):
            found = Booking.objects.filter(client__email=PHONE_CLIENT, status__in=ACTIVE_STATUSES)
            return list(found.values_list("start_time", flat=True))

    starts = run_committed(booked_start)
    assert starts == [datetime.fromisoformat(chosen)], starts
