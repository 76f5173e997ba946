"""The front desk in a real browser: the owner checks a client in from Today (who owes what is said in words),
finds a client by part of their phone number, sells them a package after a mistake on the form, and reads
what erasing would keep; every page accessible, at desktop and phone width."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User
from tenant_apps.bookings.models import Booking
from tenant_apps.clients.models import Client
from tenant_apps.packages.models import ClientPackage, CreditTransaction, SessionPackage
from tenant_apps.trainers.models import SessionType, Trainer
from tests.browser.conftest import check_page, server_password, studio_of
from tests.conftest import run_committed
from tests.live import live_server, tail

pytestmark = pytest.mark.django_db
OWNER = "desk-owner@alpha.test"
COACH = "desk-coach@alpha.test"
CLIENTS = ("desk-rita@alpha.test", "desk-omar@alpha.test")
PASSWORD = "a long browser passphrase"
PACKAGE = "Desk ten pack"
SESSION_TYPE = "Desk training"


def _tear_down() -> None:
    with tenant_context(studio_of("alpha")):
        CreditTransaction.objects.filter(client_package__client__email__in=CLIENTS).delete()
        Booking.objects.filter(client__email__in=CLIENTS).delete()
        ClientPackage.objects.filter(client__email__in=CLIENTS).delete()
        SessionPackage.objects.filter(name=PACKAGE).delete()
        SessionType.objects.filter(name=SESSION_TYPE).delete()
        Trainer.objects.filter(user__email=COACH).delete()
        Client.objects.filter(email__in=CLIENTS).delete()
        User.objects.filter(email__in=[OWNER, COACH]).delete()


def _set_up() -> None:
    """An owner who can sign in to the server, and Rita's session with Sam that started 20 minutes ago
    (unpaid), Omar's in an hour and a half."""
    from tenant_apps.clients.services import client_create
    from tenant_apps.packages.services import package_create
    from tenant_apps.trainers.services import session_type_create, trainer_create

    with tenant_context(studio_of("alpha")), transaction.atomic():
        owner = User.objects.create_user(OWNER, first_name="Olive", last_name="Owner", role=Role.OWNER)
        owner.password = server_password(PASSWORD)
        owner.save(update_fields=["password"])
        trainer = trainer_create(email=COACH, first_name="Sam", last_name="Taylor")
        session_type = session_type_create(name=SESSION_TYPE, duration_minutes=60, trainers=[trainer])
        package_create(name=PACKAGE, sessions_count=10, price="300.00", validity_days=90)
        rita = client_create(email=CLIENTS[0], first_name="Rita", last_name="Reyes", phone="+447400123987")
        omar = client_create(email=CLIENTS[1], first_name="Omar", last_name="Oduya", phone="+447400555111")
        now = timezone.now().replace(second=0, microsecond=0)
        for client, start in ((rita, now - timedelta(minutes=20)), (omar, now + timedelta(minutes=90))):
            Booking.objects.create(
                trainer=trainer,
                client=client,
                session_type=session_type,
                start_time=start,
                end_time=start + timedelta(hours=1),
                blocked_from=start,
                blocked_until=start + timedelta(hours=1),
                price=Decimal("40.00"),
                currency="GBP",
            )


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


def test_the_front_desk_checks_in_finds_a_client_and_sells_a_package(page, server):
    page.goto(f"{server['url']}/accounts/login/?next=/desk/")
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()

    # Today: Rita's session has started and she owes £40.00; check her in without leaving the page.
    assert page.url.endswith("/desk/today/"), (page.url, tail(server["log"]))
    rita = page.locator("li.today-item", has_text="Rita Reyes")
    assert "Owes £40.00" in rita.inner_text()
    check_page(page, "desk-today")
    rita.get_by_role("button", name="Check in").click()
    page.get_by_text("Rita Reyes is checked in.").wait_for()
    assert "Completed" in page.locator("li.today-item", has_text="Rita Reyes").inner_text()
    check_page(page, "desk-today-checked-in")

    # Clients: part of Omar's phone number, typed the national way, finds him alone.
    page.get_by_role("link", name="Clients").click()
    page.get_by_label("Search by name, email or phone").fill("0740055")
    page.wait_for_url("**search=0740055**")
    results = page.locator("#client-results")
    results.get_by_role("link", name="Omar Oduya").wait_for()
    assert "Rita Reyes" not in results.inner_text()
    check_page(page, "desk-clients")

    # His page: a sale without a package is explained on the form, then recorded with its ledger row.
    results.get_by_role("link", name="Omar Oduya").click()
    assert page.get_by_role("heading", name="Omar Oduya", level=1).is_visible()
    check_page(page, "desk-client")
    page.get_by_label("Amount paid").fill("300")
    page.get_by_role("button", name="Sell the package").click()
    assert page.get_by_role("alert").get_by_role("link", name="Choose the package sold.").is_visible()
    # The form with its mistakes comes back as a 400, as the booking site's forms do: expected here.
    page.console_problems[:] = [problem for problem in page.console_problems if "/packages/sell/" not in problem]
    check_page(page, "desk-client-error")
    page.get_by_label("Package", exact=True).select_option(label=PACKAGE)
    page.get_by_label("Paid by").select_option(label="Card")
    page.get_by_role("button", name="Sell the package").click()
    assert page.get_by_text(f"{PACKAGE} is sold to Omar Oduya.").is_visible()
    assert "10 credits left" in page.inner_text("main")
    assert "+10 credits (purchase)" in page.inner_text("main")

    # Erasing says what is kept before anything happens.
    page.get_by_role("link", name="Erase Omar Oduya's personal data").click()
    assert page.get_by_role("heading", name="What is kept").is_visible()
    check_page(page, "desk-client-erase")
    assert "trainerhub" not in page.content().lower()
