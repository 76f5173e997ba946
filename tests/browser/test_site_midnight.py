"""The booking site's other pages in the second theme (midnight, studio bravo): a guest's hold, its mail's
confirmation page, the manage, cancel and move pages, the "too many bookings waiting" answer, and a client's
My account. Each is painted with the studio's colour, names no platform, and passes axe at desktop and phone
width (screenshots under var/browser/)."""

import email
import email.policy
import re
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django_tenants.utils import schema_context, tenant_context

from shared_apps.accounts.models import Role, User
from tenant_apps.bookings.models import Booking, BookingEvent, BookingHold
from tenant_apps.clients.models import Client
from tenant_apps.packages.models import ClientPackage, CreditTransaction, SessionPackage
from tenant_apps.trainers.models import SessionType, Trainer
from tests.browser.conftest import check_page, server_password, studio_of
from tests.conftest import next_monday, run_committed
from tests.live import live_server, tail

pytestmark = pytest.mark.django_db
BRAND, BRAND_RGB = "#c2410c", "rgb(194, 65, 12)"
DEFAULT_BRAND = "#2563eb"
COACH = "midnight-coach@bravo.test"
MEMBER = "midnight-member@bravo.test"
GUESTS = ("midnight-guest-1@example.com", "midnight-guest-2@example.com", "midnight-guest-3@example.com")
PASSWORD = "a long midnight passphrase"
SESSION_TYPE = "Midnight flow"
PACKAGE = "Midnight ten pack"
CONFIRM_LINK = re.compile(r"https?://\S+/book/confirm/[\w-]+/")
EMAILS = (*GUESTS, MEMBER)


def _tear_down() -> None:
    studio = studio_of("bravo")
    with schema_context("public"):
        studio.brand_color = DEFAULT_BRAND
        studio.save(update_fields=["brand_color"])
    with tenant_context(studio):
        bookings = Booking.objects.filter(client__email__in=EMAILS)
        BookingHold.objects.filter(email__in=GUESTS).delete()
        BookingEvent.objects.filter(booking__in=bookings).delete()
        CreditTransaction.objects.filter(client_package__client__email__in=EMAILS).delete()
        bookings.delete()
        ClientPackage.objects.filter(client__email__in=EMAILS).delete()
        SessionPackage.objects.filter(name=PACKAGE).delete()
        SessionType.objects.filter(name=SESSION_TYPE).delete()
        Trainer.objects.filter(user__email=COACH).delete()
        Client.objects.filter(email__in=EMAILS).delete()
        User.objects.filter(email__in=[COACH, MEMBER]).delete()


def _set_up() -> None:
    """The studio's own colour; a trainer free 09:00-12:00 every day; a member with a package and a session."""
    from tenant_apps.availability.services import availability_create
    from tenant_apps.bookings.services import booking_create
    from tenant_apps.clients.services import client_create
    from tenant_apps.packages.services import package_assign, package_create
    from tenant_apps.trainers.services import session_type_create, trainer_create

    studio = studio_of("bravo")
    with schema_context("public"):
        studio.brand_color = BRAND
        studio.save(update_fields=["brand_color"])
    assert studio.guest_booking_enabled
    with tenant_context(studio), transaction.atomic():
        trainer = trainer_create(email=COACH, first_name="Nina", last_name="Vale")
        for day in range(7):
            availability_create(trainer=trainer, day_of_week=day, start_time="09:00", end_time="12:00")
        session_type = session_type_create(
            name=SESSION_TYPE, duration_minutes=60, price="35.00", trainers=[trainer], max_advance_days=60
        )
        user = User.objects.create_user(MEMBER, first_name="Mira", last_name="Stone", role=Role.CLIENT)
        user.password = server_password(PASSWORD)
        user.save(update_fields=["password"])
        client = client_create(email=MEMBER, first_name="Mira", last_name="Stone", user=user)
        package = package_create(name=PACKAGE, sessions_count=10, price="300.00", validity_days=120)
        package_assign(package=package, client=client, payment_method="cash", amount_paid=Decimal("300.00"))
        start = datetime.combine(next_monday(2), datetime.min.time(), ZoneInfo(studio.timezone)).replace(hour=11)
        booking_create(trainer=trainer, client=client, session_type=session_type, start_time=start, created_by=user)


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        run_committed(_tear_down)
        failure = run_committed(_set_up)
        if isinstance(failure, Exception):
            raise failure
    try:
        with (
            tempfile.TemporaryDirectory() as mail_folder,
            live_server(
                MAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
                EMAIL_FILE_PATH=mail_folder,
                # Two live holds from one address at most: the third guest meets the limit's page.
                BOOKING_HOLDS_LIVE_PER_ADDRESS="2",
            ) as (port, log),
        ):
            yield {"url": f"http://bravo.localhost:{port}", "log": log, "mail": Path(mail_folder)}
    finally:
        with django_db_blocker.unblock():
            run_committed(_tear_down)


def _newest_mail(folder: Path) -> email.message.EmailMessage:
    files = sorted(folder.glob("*.log"), key=lambda path: path.stat().st_mtime)
    assert files, f"no mail was written to {folder}"
    raw = files[-1].read_bytes().split(b"\n" + b"-" * 79 + b"\n")
    return email.message_from_bytes([part for part in raw if part.strip()][-1], policy=email.policy.default)


def _assert_themed(page) -> None:
    assert page.locator("body").get_attribute("class") == "theme-midnight"
    assert "trainerhub" not in page.content().lower()


def _assert_brand(locator) -> None:
    assert locator.evaluate("element => getComputedStyle(element).backgroundColor") == BRAND_RGB


def _hold_as_guest(page, server, guest: str, slot_index: int) -> None:
    """From /book/ to the guest form's answer, for the ``slot_index``-th free time of next week."""
    page.goto(f"{server['url']}/book/")
    page.get_by_role("link", name=SESSION_TYPE).click()
    page.get_by_role("link", name="Nina Vale").click()
    page.get_by_role("link", name="Next week").click()
    page.wait_for_url("**week=*")
    page.locator("a.slot").nth(slot_index).click()
    page.get_by_label("First name").fill("Gale")
    page.get_by_label("Email").fill(guest)
    page.get_by_label("Phone").fill("07911 123456")
    page.get_by_role("button", name="Book as a guest").click()


def test_a_guests_pages_from_the_hold_to_managing_the_booking_in_the_midnight_theme(page, server):
    _hold_as_guest(page, server, GUESTS[0], 0)
    assert page.get_by_role("heading", name="Check your email").is_visible(), tail(server["log"])
    _assert_themed(page)
    check_page(page, "midnight-guest-1-check-email")

    link = CONFIRM_LINK.search(_newest_mail(server["mail"]).get_body(preferencelist=("plain",)).get_content())
    page.goto(server["url"] + urlsplit(link.group(0)).path)
    assert page.get_by_role("heading", name="Confirm your booking").is_visible(), tail(server["log"])
    _assert_themed(page)
    _assert_brand(page.get_by_role("button", name="Confirm booking"))
    check_page(page, "midnight-guest-2-confirm")

    page.get_by_role("button", name="Confirm booking").click()
    assert "Your booking is confirmed." in page.inner_text("main"), tail(server["log"])
    _assert_themed(page)
    check_page(page, "midnight-manage-1-booking")
    manage_url = page.url

    page.get_by_role("link", name=re.compile("^Cancel")).first.click()
    assert page.locator("h1").is_visible()
    _assert_themed(page)
    check_page(page, "midnight-manage-2-cancel")

    page.goto(manage_url)
    page.get_by_role("link", name=re.compile("^(Move|Reschedule)")).first.click()
    assert page.locator("h1").is_visible()
    _assert_themed(page)
    assert page.locator("a.slot, input[type=radio]").count() > 0, tail(server["log"])
    check_page(page, "midnight-manage-3-move")


def test_a_guest_past_the_limit_of_live_holds_is_told_why_in_the_midnight_theme(page, server):
    _hold_as_guest(page, server, GUESTS[1], 1)
    assert page.get_by_role("heading", name="Check your email").is_visible(), tail(server["log"])
    _hold_as_guest(page, server, GUESTS[2], 2)
    _hold_as_guest(page, server, GUESTS[2], 3)
    assert page.get_by_role("heading", name=re.compile("Too many")).is_visible(), tail(server["log"])
    # The limit's answer is a 429, as it should be: the only problem the page may have met.
    answered, page.console_problems[:] = list(page.console_problems), []
    assert answered and all("429" in problem for problem in answered), answered
    _assert_themed(page)
    check_page(page, "midnight-guest-3-too-many")


def test_a_clients_account_pages_in_the_midnight_theme(page, server):
    page.goto(f"{server['url']}/accounts/login/?next=/account/")
    _assert_themed(page)
    page.get_by_label("Email").fill(MEMBER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()
    assert page.url.endswith("/account/"), (page.url, tail(server["log"]))
    assert SESSION_TYPE in page.inner_text("main") and "Nina Vale" in page.inner_text("main")
    _assert_themed(page)
    _assert_brand(page.get_by_role("link", name=re.compile("^Manage")).first)
    check_page(page, "midnight-account-1-sessions")

    page.get_by_role("link", name="Packages").click()
    assert page.get_by_role("heading", name=PACKAGE).is_visible()
    _assert_themed(page)
    check_page(page, "midnight-account-2-packages")

    page.get_by_role("link", name="Profile").click()
    _assert_themed(page)
    _assert_brand(page.get_by_role("button", name="Save profile"))
    check_page(page, "midnight-account-3-profile")
