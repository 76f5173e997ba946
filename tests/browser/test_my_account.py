"""My account in a real browser: a client signs in, finds their upcoming session and their package with its
ledger, changes their phone number and turns texts on; every page accessible, at desktop and phone width."""

from datetime import datetime, timedelta
from decimal import Decimal
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
EMAIL = "account-client@alpha.test"
COACH = "account-coach@alpha.test"
PASSWORD = "a long browser passphrase"
PACKAGE = "Account five pack"
SESSION_TYPE = "Account training"


def _tear_down() -> None:
    with tenant_context(studio_of("alpha")):
        CreditTransaction.objects.filter(client_package__client__email=EMAIL).delete()
        Booking.objects.filter(client__email=EMAIL).delete()
        ClientPackage.objects.filter(client__email=EMAIL).delete()
        SessionPackage.objects.filter(name=PACKAGE).delete()
        SessionType.objects.filter(name=SESSION_TYPE).delete()
        Trainer.objects.filter(user__email=COACH).delete()
        Client.objects.filter(email=EMAIL).delete()
        User.objects.filter(email__in=[EMAIL, COACH]).delete()


def _set_up() -> None:
    """A client with a password (hashed as the server hashes: the tests' fast hasher is not among the
    server's), a package bought and one credit spent on next week's session with Sam."""
    from tenant_apps.clients.services import client_create
    from tenant_apps.packages.services import client_package_debit, package_assign, package_create
    from tenant_apps.trainers.services import session_type_create, trainer_create

    with tenant_context(studio_of("alpha")), transaction.atomic():
        user = User.objects.create_user(EMAIL, first_name="Lena", last_name="Marsh", role=Role.CLIENT)
        user.password = server_password(PASSWORD)
        user.save(update_fields=["password"])
        client = client_create(email=EMAIL, first_name="Lena", last_name="Marsh", user=user)
        trainer = trainer_create(email=COACH, first_name="Sam", last_name="Taylor")
        session_type = session_type_create(name=SESSION_TYPE, duration_minutes=60, trainers=[trainer])
        package = package_create(name=PACKAGE, sessions_count=5, price="250.00", validity_days=90)
        client_package = package_assign(
            package=package, client=client, payment_method="cash", amount_paid=Decimal("250.00")
        )
        start = datetime.combine(next_monday(), datetime.min.time(), ZoneInfo("Europe/London")).replace(hour=10)
        booking = Booking.objects.create(
            trainer=trainer,
            client=client,
            session_type=session_type,
            start_time=start,
            end_time=start + timedelta(hours=1),
            blocked_from=start,
            blocked_until=start + timedelta(hours=1),
            price=Decimal("0"),
            currency="GBP",
            payment_state="credit",
            client_package=client_package,
        )
        client_package_debit(client_package=client_package, booking=booking, actor=user)


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


def test_a_client_sees_their_sessions_and_packages_and_changes_their_phone(page, server):
    page.goto(f"{server['url']}/accounts/login/?next=/account/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()

    # Sessions: next week's session with Sam, its time in the studio's zone, and its manage link.
    assert page.url.endswith("/account/"), (page.url, tail(server["log"]))
    assert page.get_by_role("link", name="My account").get_attribute("aria-current") == "page"
    upcoming = page.locator("section", has=page.get_by_role("heading", name="Upcoming sessions"))
    assert SESSION_TYPE in upcoming.inner_text() and "Sam Taylor" in upcoming.inner_text()
    assert "10:00\u201311:00 GMT" in upcoming.inner_text() or "10:00\u201311:00 BST" in upcoming.inner_text()
    assert "Paid by a package credit (Account five pack)" in upcoming.inner_text()
    assert upcoming.get_by_role("link", name="Manage").get_attribute("href").startswith("/b/")
    check_page(page, "account-sessions")

    # Packages: four credits left of five, and the ledger in words.
    page.get_by_role("link", name="Packages").click()
    assert page.get_by_role("heading", name=PACKAGE).is_visible()
    assert "4 of 5" in page.inner_text("main") and "Can pay for bookings" in page.inner_text("main")
    page.get_by_text("History").click()
    ledger = page.get_by_role("table").inner_text()
    assert "Bought 5 sessions" in ledger and "with Sam Taylor" in ledger and "Used for Mon" in ledger
    check_page(page, "account-packages")

    # Profile: a mistake is explained on the form, then the phone is saved as a number of the studio's country.
    page.get_by_role("link", name="Profile").click()
    check_page(page, "account-profile")
    page.get_by_label("First name").fill("")
    page.get_by_label("Phone (optional)").fill("07911 123456")
    page.get_by_role("button", name="Save profile").click()
    assert page.get_by_role("alert").get_by_role("link", name="Enter your first name.").is_visible()
    check_page(page, "account-profile-error")
    page.get_by_label("First name").fill("Lena")
    page.get_by_role("button", name="Save profile").click()
    assert page.get_by_text("Your profile is saved.").is_visible()
    assert page.get_by_label("Phone (optional)").input_value() == "+44 7911 123456"
    assert "trainerhub" not in page.content().lower()

    # Notifications: texts turned on to the profile's number, the consent on record shown once saved.
    page.get_by_role("link", name="Notifications").click()
    check_page(page, "account-notifications")
    assert page.get_by_label("Mobile number").input_value() == "+44 7911 123456"
    page.get_by_label("I agree to receive appointment texts from Alpha Strength. Reply STOP to opt out.").check()
    page.get_by_role("button", name="Save notifications").click()
    assert page.get_by_text("Your notification settings are saved.").is_visible()
    assert "Texts on since" in page.inner_text("main") and "(you turned them on here)" in page.inner_text("main")
    check_page(page, "account-notifications-saved")
