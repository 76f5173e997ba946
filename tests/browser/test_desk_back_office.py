"""The desk's back office in a real browser: the owner changes the booking site's theme and brand colour (the
preview follows before anything is saved) and the studio's /book/ shows them while another studio's stays as it
was; a manager invites a trainer, who chooses a password from the mail's link and sees her own calendar only, sets
her hours, the manager adds a session type for her in the catalogue and a client books it on /book/; the owner
deactivates a trainer and moves his future bookings to a colleague, under whom the calendar shows them. Every page
accessible, at desktop and phone width. The server writes its mail to files in a folder this test reads."""

import email
import email.policy
import re
import tempfile
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django_tenants.utils import schema_context, tenant_context
from playwright.sync_api import expect

from shared_apps.accounts.models import Role, User
from tenant_apps.bookings.models import Booking, BookingEvent
from tenant_apps.clients.models import Client
from tenant_apps.trainers.models import SessionType, Trainer
from tests.browser.conftest import check_page, server_password, studio_of
from tests.conftest import next_monday, run_committed
from tests.live import live_server, tail

pytestmark = pytest.mark.django_db
OWNER = "back-office-owner@alpha.test"
MANAGER = "back-office-manager@alpha.test"
LEAVER = "back-office-lee@alpha.test"
COLLEAGUE = "back-office-cole@alpha.test"
NEWCOMER = "back-office-nia@alpha.test"
CLIENT = "back-office-rita@alpha.test"
PASSWORD = "a long browser passphrase"
NEW_PASSWORD = "Nia's own long passphrase"
SESSION_TYPE = "Back office training"
NEW_TYPE = "Back office intro"
ZONE = ZoneInfo("Europe/London")
# The booking site's look before the owner changes it, and after: dark enough for white button text (AA).
THEME_BEFORE, BRAND_BEFORE = "midnight", "#2563eb"
THEME, BRAND, BRAND_RGB = "classic", "#0f766e", "rgb(15, 118, 110)"
RESET_LINK = re.compile(r"https?://\S+/accounts/password/reset/key/\S+/")


def _tear_down() -> None:
    alpha = studio_of("alpha")
    with schema_context("public"):
        alpha.theme, alpha.brand_color = "classic", BRAND_BEFORE
        alpha.save(update_fields=["theme", "brand_color"])
    with tenant_context(alpha):
        bookings = Booking.objects.filter(client__email=CLIENT)
        BookingEvent.objects.filter(booking__in=bookings).delete()
        bookings.delete()
        SessionType.objects.filter(name__in=[SESSION_TYPE, NEW_TYPE]).delete()
        Trainer.objects.filter(user__email__in=[LEAVER, COLLEAGUE, NEWCOMER]).delete()
        Client.objects.filter(email=CLIENT).delete()
        User.objects.filter(email__in=[OWNER, MANAGER, LEAVER, COLLEAGUE, NEWCOMER, CLIENT]).delete()


def _set_up() -> None:
    """Alpha in the midnight theme; its owner and a manager; Lee and Cole, both free 09:00-12:00 every day and
    teaching one session type; Rita, a client with an account, booked with Lee next Monday at 09:00 and 10:00."""
    from tenant_apps.availability.services import availability_create
    from tenant_apps.clients.services import client_create
    from tenant_apps.trainers.services import session_type_create, trainer_create

    alpha = studio_of("alpha")
    with schema_context("public"):
        alpha.theme = THEME_BEFORE
        alpha.save(update_fields=["theme"])
    with tenant_context(alpha), transaction.atomic():
        for address, first, last, role in (
            (OWNER, "Olive", "Owner", Role.OWNER),
            (MANAGER, "Mia", "Manager", Role.MANAGER),
            (CLIENT, "Rita", "Reyes", Role.CLIENT),
        ):
            user = User.objects.create_user(address, first_name=first, last_name=last, role=role)
            user.password = server_password(PASSWORD)
            user.save(update_fields=["password"])
        rita = client_create(email=CLIENT, first_name="Rita", last_name="Reyes", user=User.objects.get(email=CLIENT))
        lee = trainer_create(email=LEAVER, first_name="Lee", last_name="Leaving")
        cole = trainer_create(email=COLLEAGUE, first_name="Cole", last_name="Cooper")
        for trainer in (lee, cole):
            for day in range(7):
                availability_create(trainer=trainer, day_of_week=day, start_time="09:00", end_time="12:00")
        session_type = session_type_create(
            name=SESSION_TYPE, duration_minutes=60, price="40.00", trainers=[lee, cole], max_advance_days=60
        )
        for hour in (9, 10):
            start = datetime.combine(next_monday(), datetime.min.time(), ZONE).replace(hour=hour)
            Booking.objects.create(
                trainer=lee,
                client=rita,
                session_type=session_type,
                start_time=start,
                end_time=start + timedelta(hours=1),
                blocked_from=start,
                blocked_until=start + timedelta(hours=1),
                price=Decimal("40.00"),
                currency="USD",
            )


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
                MAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend", EMAIL_FILE_PATH=mail_folder
            ) as (port, log),
        ):
            yield {
                "url": f"http://alpha.localhost:{port}",
                "bravo": f"http://bravo.localhost:{port}",
                "log": log,
                "mail": Path(mail_folder),
            }
    finally:
        with django_db_blocker.unblock():
            run_committed(_tear_down)


def _new_page(browser):
    """A second person's page (another browser context), collecting console problems like ``page``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(f"{page.url}: {message.text}"))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda answer: answer.status >= 400 and problems.append(f"{answer.status} {answer.url}"))
    page.console_problems = problems
    return page


def _sign_in(page, server, address: str, password: str = PASSWORD) -> None:
    page.goto(f"{server['url']}/accounts/login/")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()


def _expected_refusal(page, path: str) -> None:
    """A 400 the test asked for (a form sent with a mistake): not a problem of the page."""
    page.console_problems[:] = [problem for problem in page.console_problems if path not in problem]


def _fits_a_phone(page) -> None:
    """At 375 px the page doesn't get wider than the screen: wide parts (a table) scroll in their own box."""
    size = page.viewport_size
    page.set_viewport_size({"width": 375, "height": 800})
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 375:  # name what sticks out, for the failure message
            wider = page.evaluate(
                """() => [...document.querySelectorAll('body *')]
                    .filter((element) => element.getBoundingClientRect().right > 376)
                    .map((element) => `${element.tagName}.${element.className}`)"""
            )
            pytest.fail(f"{page.url} is {width} px wide at 375 px: {wider[:20]}")
    finally:
        page.set_viewport_size(size)


def _mail_to(folder: Path, address: str) -> email.message.EmailMessage:
    """The last message to ``address`` the file backend wrote (messages are separated by a line of dashes)."""
    found = []
    for path in sorted(folder.glob("*.log"), key=lambda path: path.stat().st_mtime):
        for part in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if part.strip():
                message = email.message_from_bytes(part, policy=email.policy.default)
                if message["To"] == address:
                    found.append(message)
    assert found, f"no mail to {address} was written to {folder}"
    return found[-1]


def _brand(page) -> str:
    return page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--brand').trim()")


def _saved_look() -> tuple[str, str]:
    alpha = studio_of("alpha")
    return alpha.theme, alpha.brand_color.lower()


def test_the_owner_previews_and_saves_a_theme_and_colour_which_the_booking_site_shows(page, server, browser):
    # Bravo's booking site, as a visitor sees it before alpha changes anything.
    visitor = _new_page(browser)
    visitor.goto(f"{server['bravo']}/book/")
    bravo_before = (visitor.locator("body").get_attribute("class"), _brand(visitor))

    _sign_in(page, server, OWNER)
    assert page.url.endswith("/desk/today/"), (page.url, tail(server["log"]))
    page.get_by_role("link", name="Settings").click()
    page.wait_for_url("**/desk/settings/")
    frame = page.frame_locator("iframe.studio-preview-frame")
    expect(frame.locator("body")).to_have_class(f"theme-{THEME_BEFORE}")
    check_page(page, "desk-studio-settings")
    _fits_a_phone(page)

    # Each change swaps the preview (htmx); nothing is saved yet.
    page.get_by_label("Theme of the booking site").select_option(label=THEME.capitalize())
    expect(page.locator("#studio-preview .meta")).to_contain_text(f"the {THEME.capitalize()} theme")
    expect(frame.locator("body")).to_have_class(f"theme-{THEME}")
    page.get_by_label("Brand colour").fill(BRAND)
    expect(page.locator("#studio-preview .meta")).to_contain_text(f"brand colour {BRAND}, not saved yet")
    button = frame.locator(".button").first
    expect(button).to_have_css("background-color", BRAND_RGB)
    assert _saved_look() == (THEME_BEFORE, BRAND_BEFORE)
    check_page(page, "desk-studio-settings-preview")

    page.get_by_role("button", name="Save the settings").click()
    page.get_by_text("The studio's settings were saved.").wait_for()
    assert _saved_look() == (THEME, BRAND), tail(server["log"])
    expect(page.locator("#studio-preview .meta")).to_contain_text("as saved")
    check_page(page, "desk-studio-settings-saved")

    # Alpha's booking site, in the new theme and colour: the primary button is painted with it.
    visitor.goto(f"{server['url']}/book/")
    assert visitor.locator("body").get_attribute("class") == f"theme-{THEME}"
    assert _brand(visitor) == BRAND
    expect(visitor.locator("a.button").first).to_have_css("background-color", BRAND_RGB)
    check_page(visitor, "desk-studio-book-alpha")

    # Bravo's is as it was.
    visitor.goto(f"{server['bravo']}/book/")
    assert (visitor.locator("body").get_attribute("class"), _brand(visitor)) == bravo_before
    assert bravo_before[0] == "theme-midnight" and bravo_before[1] != BRAND
    check_page(visitor, "desk-studio-book-bravo")
    visitor.context.close()


def _trainer_id(address: str) -> int:
    with tenant_context(studio_of("alpha")):
        return Trainer.objects.get(user__email=address).pk


def test_a_manager_invites_a_trainer_who_sets_her_password_and_a_client_books_her_new_session(page, server, browser):
    _sign_in(page, server, MANAGER)
    page.get_by_role("link", name="Staff").click()
    page.wait_for_url("**/desk/staff/")
    check_page(page, "desk-staff")
    page.get_by_role("link", name="Invite a manager or trainer").click()
    page.wait_for_url("**/desk/staff/invite/")
    check_page(page, "desk-staff-invite")
    page.get_by_label("Email").fill(NEWCOMER)
    page.get_by_label("First name").fill("Nia")
    page.get_by_label("Last name").fill("Newman")
    page.get_by_label("Role").select_option(label="Trainer")
    page.get_by_role("button", name="Send the invitation").click()
    page.get_by_text(
        f"Nia Newman is invited as trainer: a mail with a link to choose a password is on its way to {NEWCOMER}."
    ).wait_for()
    with tenant_context(studio_of("alpha")):
        nia_user_id = User.objects.get(email=NEWCOMER).pk
    assert "Invitation pending" in page.locator(f"#staff-{nia_user_id}").inner_text()
    check_page(page, "desk-staff-invited")

    # Nia follows the link in her mail (on the studio's primary domain: the test's server has a port of its own).
    nia = _new_page(browser)
    message = _mail_to(server["mail"], NEWCOMER)
    link = RESET_LINK.search(message.get_body(preferencelist=("plain",)).get_content()).group(0)
    nia.goto(server["url"] + urlsplit(link).path)
    assert nia.get_by_role("heading", name="Change Password").is_visible(), tail(server["log"])
    check_page(nia, "desk-invited-password")
    nia.get_by_label("New Password:", exact=True).fill(NEW_PASSWORD)
    nia.get_by_label("New Password (again):", exact=True).fill(NEW_PASSWORD)
    nia.get_by_role("button", name="Change Password").click()
    nia.wait_for_load_state()
    assert "password is now changed" in nia.inner_text("main").lower(), tail(server["log"])
    check_page(nia, "desk-invited-password-set")

    # Signed in, she is in the desk, and her calendar is hers alone.
    _sign_in(nia, server, NEWCOMER, NEW_PASSWORD)
    assert nia.url.endswith("/desk/today/"), (nia.url, tail(server["log"]))
    nia.get_by_role("link", name="Calendar").click()
    nia.wait_for_url("**/desk/calendar/")
    assert nia.locator(".cal-grid thead th").count() == 2  # the times, and her column
    assert "Nia Newman" in nia.locator(".cal-grid thead").inner_text()
    content = nia.content()
    assert "Cole Cooper" not in content and "Lee Leaving" not in content and "Rita" not in content
    check_page(nia, "desk-invited-calendar")

    # She works Monday mornings.
    nia.get_by_role("link", name="Trainers' hours").click()
    nia.wait_for_url("**/desk/hours/")
    check_page(nia, "desk-invited-hours")
    nia.get_by_label("Day", exact=True).select_option("Monday")
    nia.locator("#id_weekly-start_time").fill("09:00")
    nia.locator("#id_weekly-end_time").fill("12:00")
    nia.get_by_role("button", name="Add", exact=True).click()
    nia.get_by_text("The window was added.").wait_for()
    nia.context.close()

    # The manager adds a session type she teaches (after forgetting its name).
    page.get_by_role("link", name="Catalogue").click()
    page.wait_for_url("**/desk/catalogue/")
    check_page(page, "desk-catalogue")
    page.get_by_role("link", name="Add a session type").click()
    page.wait_for_url("**/desk/catalogue/session-types/new/")
    page.get_by_label("Length (minutes)").fill("45")
    page.get_by_label(re.compile(r"^Price \(")).fill("25.00")
    page.get_by_label("Horizon (days)").fill("60")
    page.get_by_label("Nia Newman").check()
    page.get_by_role("button", name="Add the session type").click()
    summary = page.get_by_role("alert")
    assert summary.get_by_role("link", name="This field is required.").is_visible()
    _expected_refusal(page, "/desk/catalogue/session-types/new/")
    check_page(page, "desk-catalogue-new-error")
    assert page.get_by_label("Nia Newman").is_checked()  # what was typed stays
    page.get_by_label("Name", exact=True).fill(NEW_TYPE)
    page.get_by_role("button", name="Add the session type").click()
    page.get_by_text(f"{NEW_TYPE} is added to the session types.").wait_for()
    row = page.get_by_role("row", name=re.compile(NEW_TYPE))
    assert "45 minutes" in row.inner_text() and "Nia Newman" in row.inner_text() and "Offered" in row.inner_text()
    check_page(page, "desk-catalogue-added")

    # Rita books it on the studio's own site.
    rita = _new_page(browser)
    _sign_in(rita, server, CLIENT)
    rita.goto(f"{server['url']}/book/")
    check_page(rita, "desk-new-type-book-1-session")
    rita.get_by_role("link", name=NEW_TYPE).click()
    assert rita.get_by_role("heading", name="Choose a trainer").is_visible(), tail(server["log"])
    assert "Cole Cooper" not in rita.inner_text("main")
    check_page(rita, "desk-new-type-book-2-trainer")
    rita.get_by_role("link", name="Nia Newman").click()
    if rita.locator("a.slot").count() == 0:  # this week's Monday has gone: the next one
        rita.get_by_role("link", name="Next week").click()
        rita.wait_for_url("**week=*")
    check_page(rita, "desk-new-type-book-3-week")
    rita.locator("a.slot").first.click()
    assert rita.get_by_role("heading", name="Check your booking").is_visible()
    assert rita.get_by_label("Pay at the studio").is_checked()
    check_page(rita, "desk-new-type-book-4-details")
    rita.get_by_role("button", name="Book this session").click()
    assert rita.get_by_role("heading", name="You're booked").is_visible(), tail(server["log"])
    check_page(rita, "desk-new-type-book-5-done")
    rita.context.close()
    with tenant_context(studio_of("alpha")):
        booking = Booking.objects.select_related("trainer__user").get(client__email=CLIENT, session_type__name=NEW_TYPE)
    assert booking.trainer.user.email == NEWCOMER
    assert booking.start_time.astimezone(ZONE).weekday() == 0


def test_the_owner_deactivates_a_trainer_and_his_bookings_move_to_a_colleague(page, server):
    with tenant_context(studio_of("alpha")):
        lee_user_id = User.objects.get(email=LEAVER).pk
    monday = next_monday()
    _sign_in(page, server, OWNER)
    page.get_by_role("link", name="Staff").click()
    page.wait_for_url("**/desk/staff/")
    _fits_a_phone(page)
    page.get_by_role("link", name="Deactivate Lee Leaving").click()
    page.wait_for_url(f"**/desk/staff/{lee_user_id}/deactivate/")
    assert page.get_by_role("heading", name="2 future bookings").is_visible()
    assert page.locator(".clash-list tbody tr").count() == 2
    check_page(page, "desk-staff-deactivate")

    page.get_by_label("Move them to another trainer, at the same times").check()
    page.get_by_label("Trainer who takes them over").select_option(label="Cole Cooper")
    page.get_by_role("button", name="Deactivate Lee Leaving").click()
    page.get_by_text(
        "Lee Leaving is deactivated: they can no longer sign in. 2 future bookings moved to Cole Cooper; "
        "the clients are told."
    ).wait_for()
    lee = page.locator(f"#staff-{lee_user_id}")
    assert "Deactivated" in lee.inner_text()
    assert lee.get_by_role("button", name="Reactivate Lee Leaving").is_visible()
    assert lee.get_by_role("link", name="Deactivate Lee Leaving").count() == 0
    check_page(page, "desk-staff-deactivated")

    # On the calendar, Lee is no longer among the trainers, and Monday's two sessions are in Cole's week.
    page.get_by_role("link", name="Calendar").click()
    page.wait_for_url("**/desk/calendar/")
    page.get_by_label("Date").fill(monday.isoformat())
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**date={monday.isoformat()}**")
    heads = page.locator(".cal-grid thead").inner_text()
    assert "Cole Cooper" in heads and "Lee Leaving" not in heads, heads
    page.get_by_role("link", name="Week Cole Cooper").click()
    page.wait_for_url("**view=week**")
    assert page.locator(".cal-section h3").all_inner_texts() == ["Cole Cooper"]
    cards = page.locator(".cal-card", has_text="Rita Reyes")
    assert cards.count() == 2
    assert "09:00" in cards.nth(0).inner_text() and "10:00" in cards.nth(1).inner_text()
    check_page(page, "desk-staff-moved-calendar")
    with tenant_context(studio_of("alpha")):
        moved = Booking.objects.filter(client__email=CLIENT, session_type__name=SESSION_TYPE)
        assert {booking.trainer.user.email for booking in moved} == {COLLEAGUE}
