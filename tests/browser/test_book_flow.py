"""Book in a real browser: a signed-in client picks a session, moves between weeks (htmx and plain links),
shows the times in their own zone, books with a package credit and sees the balance drop; every page
accessible, at desktop and phone width."""

from decimal import Decimal

import pytest
from django.db import transaction
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User
from tenant_apps.bookings.models import Booking, BookingEvent
from tenant_apps.clients.models import Client
from tenant_apps.packages.models import ClientPackage, CreditTransaction, SessionPackage
from tenant_apps.trainers.models import SessionType, Trainer
from tests.browser.conftest import check_page, server_password, studio_of
from tests.conftest import run_committed
from tests.live import live_server, tail

pytestmark = pytest.mark.django_db
EMAIL = "book-client@alpha.test"
COACH = "book-coach@alpha.test"
PASSWORD = "a long browser passphrase"
PACKAGE = "Book flow pack"
SESSION_TYPE = "Book flow training"
# Nine hours ahead of the studio (London) in December: the toggle visibly changes every time shown.
VISITOR_ZONE = "Asia/Tokyo"


def _tear_down() -> None:
    with tenant_context(studio_of("alpha")):
        bookings = Booking.objects.filter(client__email=EMAIL)
        CreditTransaction.objects.filter(client_package__client__email=EMAIL).delete()
        BookingEvent.objects.filter(booking__in=bookings).delete()
        bookings.delete()
        ClientPackage.objects.filter(client__email=EMAIL).delete()
        SessionPackage.objects.filter(name=PACKAGE).delete()
        SessionType.objects.filter(name=SESSION_TYPE).delete()
        Trainer.objects.filter(user__email=COACH).delete()
        Client.objects.filter(email=EMAIL).delete()
        User.objects.filter(email__in=[EMAIL, COACH]).delete()


def _set_up() -> None:
    """A client with a password (hashed as the server hashes) and a five-credit package; a trainer free
    09:00-12:00 every day, teaching one session type."""
    from tenant_apps.availability.services import availability_create
    from tenant_apps.clients.services import client_create
    from tenant_apps.packages.services import package_assign, package_create
    from tenant_apps.trainers.services import session_type_create, trainer_create

    with tenant_context(studio_of("alpha")), transaction.atomic():
        user = User.objects.create_user(EMAIL, first_name="Lena", last_name="Marsh", role=Role.CLIENT)
        user.password = server_password(PASSWORD)
        user.save(update_fields=["password"])
        client = client_create(email=EMAIL, first_name="Lena", last_name="Marsh", user=user)
        trainer = trainer_create(email=COACH, first_name="Sam", last_name="Taylor")
        for day in range(7):
            availability_create(trainer=trainer, day_of_week=day, start_time="09:00", end_time="12:00")
        session_type_create(
            name=SESSION_TYPE, duration_minutes=60, price="40.00", trainers=[trainer], max_advance_days=60
        )
        package = package_create(name=PACKAGE, sessions_count=5, price="180.00", validity_days=90)
        package_assign(package=package, client=client, payment_method="cash", amount_paid=Decimal("180.00"))


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


@pytest.fixture
def visitor(browser):
    """A page in a browser nine hours ahead of the studio, collecting console errors like ``page``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=VISITOR_ZONE)
    page = context.new_page()
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(f"{page.url}: {message.text}"))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda answer: answer.status >= 400 and problems.append(f"{answer.status} {answer.url}"))
    page.console_problems = problems
    yield page
    context.close()


def test_a_client_books_with_a_credit_moves_between_weeks_and_sees_times_in_their_zone(visitor, server):
    page = visitor
    page.goto(f"{server['url']}/accounts/login/?next=/book/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()
    assert page.url.endswith("/book/"), (page.url, tail(server["log"]))
    check_page(page, "book-1-session")

    page.get_by_role("link", name=SESSION_TYPE).click()
    assert page.get_by_role("heading", name="Choose a trainer").is_visible()
    check_page(page, "book-2-trainer")

    page.get_by_role("link", name="Sam Taylor").click()
    heading = page.locator("#week-heading")
    this_week = heading.inner_text()
    assert "Europe/London" in page.inner_text(".zone-note")
    check_page(page, "book-3-week")

    # The arrows swap the week in place (htmx) and put it in the URL, so back and reload show it too.
    page.get_by_role("link", name="Next week").click()
    page.wait_for_url("**week=*")
    assert heading.inner_text() != this_week
    next_week_url = page.url
    assert page.locator("h1").inner_text() == "Choose a time"  # the page stayed; only the week changed
    page.get_by_role("link", name="Previous week").click()
    page.wait_for_url(lambda url: url != next_week_url)
    assert heading.inner_text() == this_week
    page.goto(next_week_url)

    # The studio's zone first; the toggle shows the visitor's own (09:00 London is 18:00 in Tokyo in winter).
    first_slot = page.locator("a.slot time").first
    assert first_slot.inner_text() == "09:00"
    page.get_by_role("link", name="Show times in my time zone").click()
    page.wait_for_load_state()
    assert page.locator("a.slot time").first.inner_text() == "18:00"
    assert VISITOR_ZONE in page.inner_text(".zone-note")
    assert not page.get_by_role("link", name="Show times in my time zone").is_visible()
    check_page(page, "book-3-week-local")
    # Kept: back to the studio's zone, and the choice holds on the next page too.
    page.get_by_role("link", name="Show times in the studio's time zone").click()
    page.wait_for_load_state()
    assert page.locator("a.slot time").first.inner_text() == "09:00"
    assert "Europe/London" in page.inner_text(".zone-note")

    page.locator("a.slot").first.click()
    assert page.get_by_role("heading", name="Check your booking").is_visible()
    package_choice = page.get_by_label(f"{PACKAGE}: 5 credits left", exact=False)
    assert package_choice.is_checked()
    check_page(page, "book-4-details")

    page.get_by_label("A note for your trainer (optional)").fill("First session, looking forward to it.")
    page.get_by_role("button", name="Book this session").click()
    assert page.get_by_role("heading", name="You're booked").is_visible(), tail(server["log"])
    main = page.inner_text("main")
    assert f"1 credit of {PACKAGE}: 4 credits left" in main
    assert "09:00 to 10:00 (Europe/London)" in main
    assert page.get_by_role("link", name="Change or cancel this booking").get_attribute("href").startswith("/b/")
    check_page(page, "book-5-done")

    with page.expect_download() as download:
        page.get_by_role("link", name="Add to calendar").click()
    assert download.value.suggested_filename.endswith(".ics")
    assert "trainerhub" not in page.content().lower()
