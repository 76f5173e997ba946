"""The desk's booking form and panel in a real browser: the manager finds a client by typing part of a phone
number, books them into a trainer's free time with their package (after a mistake on the form), confirms the
request, then cancels it as the studio and the client's credit is back; every page accessible, at desktop and
phone width."""

from datetime import datetime
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User
from tenant_apps.bookings.models import Booking
from tenant_apps.clients.models import Client
from tenant_apps.packages.models import ClientPackage, CreditTransaction, SessionPackage
from tenant_apps.trainers.models import SessionType, Trainer
from tests.browser.conftest import check_page, server_password, studio_of
from tests.conftest import next_monday, run_committed
from tests.live import live_server, tail

pytestmark = pytest.mark.django_db
MANAGER = "book-desk-manager@alpha.test"
COACH = "book-desk-coach@alpha.test"
CLIENTS = ("book-desk-bea@alpha.test", "book-desk-carl@alpha.test")
PASSWORD = "a long browser passphrase"
PACKAGE = "Front desk five pack"
SESSION_TYPE = "Front desk training"


def _tear_down() -> None:
    with tenant_context(studio_of("alpha")):
        CreditTransaction.objects.filter(client_package__client__email__in=CLIENTS).delete()
        Booking.objects.filter(client__email__in=CLIENTS).delete()
        ClientPackage.objects.filter(client__email__in=CLIENTS).delete()
        SessionPackage.objects.filter(name=PACKAGE).delete()
        SessionType.objects.filter(name=SESSION_TYPE).delete()
        Trainer.objects.filter(user__email=COACH).delete()
        Client.objects.filter(email__in=CLIENTS).delete()
        User.objects.filter(email__in=[MANAGER, COACH]).delete()


def _set_up() -> None:
    """A manager who can sign in to the server; Sam, free 09:00-12:00 every day, teaching a session type that
    asks for confirmation; Bea with a five-credit package, and Carl, whose number looks a little like hers."""
    from tenant_apps.availability.services import availability_create
    from tenant_apps.clients.services import client_create
    from tenant_apps.packages.services import package_assign, package_create
    from tenant_apps.trainers.services import session_type_create, trainer_create

    with tenant_context(studio_of("alpha")), transaction.atomic():
        manager = User.objects.create_user(MANAGER, first_name="Mia", last_name="Manager", role=Role.MANAGER)
        manager.password = server_password(PASSWORD)
        manager.save(update_fields=["password"])
        trainer = trainer_create(email=COACH, first_name="Sam", last_name="Taylor")
        for day in range(7):
            availability_create(trainer=trainer, day_of_week=day, start_time="09:00", end_time="12:00")
        session_type_create(
            name=SESSION_TYPE,
            duration_minutes=60,
            price="40.00",
            trainers=[trainer],
            max_advance_days=60,
            requires_confirmation=True,
        )
        bea = client_create(email=CLIENTS[0], first_name="Bea", last_name="Booker", phone="+447400987654")
        client_create(email=CLIENTS[1], first_name="Carl", last_name="Caller", phone="+447400111654")
        package = package_create(name=PACKAGE, sessions_count=5, price="180.00", validity_days=90)
        package_assign(package=package, client=bea, payment_method="cash", amount_paid=Decimal("180.00"))


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


def _credits_left() -> int:
    with tenant_context(studio_of("alpha")):
        return ClientPackage.objects.get(client__email=CLIENTS[0]).sessions_remaining


def test_the_front_desk_books_a_client_with_their_package_confirms_and_cancels(page, server):
    with tenant_context(studio_of("alpha")):
        trainer_id = Trainer.objects.get(user__email=COACH).pk
    start = datetime.combine(next_monday(), datetime.min.time(), ZoneInfo("Europe/London")).replace(hour=10)
    new_url = f"/desk/bookings/new/?trainer={trainer_id}&start={quote(start.isoformat())}"
    page.goto(f"{server['url']}/accounts/login/?next={quote(new_url)}")
    page.get_by_label("Email").fill(MANAGER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()
    assert "/desk/bookings/new/" in page.url, (page.url, tail(server["log"]))
    assert page.get_by_label("Start (Europe/London)").input_value() == start.strftime("%Y-%m-%dT%H:%M")
    check_page(page, "desk-booking-new")

    # Booking with no client is explained in the summary, and the link leads to the search.
    page.get_by_role("button", name="Book", exact=True).click()
    summary = page.get_by_role("alert")
    assert summary.get_by_role("link", name="Choose a client from the search, or add a new one.").is_visible()
    # The form comes back with the 400 that says it was refused: expected here.
    page.console_problems[:] = [problem for problem in page.console_problems if "/desk/bookings/new/" not in problem]
    check_page(page, "desk-booking-new-error")

    # Part of Bea's number, typed the national way, finds her alone; choosing her lists her package.
    page.get_by_label("Find a client by name, email or phone").fill("07400 987")
    results = page.locator("#client-results")
    results.get_by_role("link", name="Bea Booker").wait_for()
    assert "Carl Caller" not in results.inner_text()
    results.get_by_role("link", name="Bea Booker").click()
    page.get_by_role("link", name="Change client").wait_for()
    assert "client=" in page.url  # the choice is in the URL
    package = page.get_by_label(f"{PACKAGE}: 5 credits left", exact=False)
    assert package.is_checked()
    check_page(page, "desk-booking-new-client")
    page.get_by_label("Note (optional)").fill("First session")
    page.get_by_role("button", name="Book", exact=True).click()

    # The panel: a request to confirm, paid by a credit.
    page.get_by_text(f"Booked {SESSION_TYPE} for Bea Booker.").wait_for()
    assert "/desk/bookings/" in page.url and "Pending" in page.inner_text("main")
    assert _credits_left() == 4
    check_page(page, "desk-booking-panel")
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("Booking confirmed; the client is sent the confirmation.").wait_for()
    assert "Confirmed" in page.locator(".facts").inner_text()

    # Cancelled as the studio: the panel says the credit comes back, and it does.
    page.get_by_text("Cancel as the studio").click()
    assert page.get_by_text(f"The client's credit of {PACKAGE} comes back.").is_visible()
    check_page(page, "desk-booking-cancel")
    page.get_by_label("Reason (optional)").first.fill("Sam is ill")
    page.get_by_role("button", name="Cancel the booking").click()
    page.get_by_text("Booking cancelled by the studio; the client's credit is back.").wait_for()
    assert _credits_left() == 5
    check_page(page, "desk-booking-cancelled")
