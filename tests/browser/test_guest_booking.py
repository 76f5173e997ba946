"""A guest books in a real browser: picks a session without an account, gives name, email and phone, is told to
check their email, follows the link in the mail the server sent, presses "Confirm booking", and the booking
exists. The server writes its mail to files (the file backend) in a folder this test reads."""

import email
import email.policy
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import User
from tenant_apps.bookings.models import Booking, BookingEvent, BookingHold
from tenant_apps.clients.models import Client
from tenant_apps.trainers.models import SessionType, Trainer
from tests.browser.conftest import check_page, studio_of
from tests.conftest import run_committed
from tests.live import live_server, tail

pytestmark = pytest.mark.django_db
GUEST = "guest-browser@example.com"
COACH = "guest-coach@alpha.test"
SESSION_TYPE = "Guest flow training"
CONFIRM_LINK = re.compile(r"https?://\S+/book/confirm/[\w-]+/")


def _tear_down() -> None:
    with tenant_context(studio_of("alpha")):
        bookings = Booking.objects.filter(client__email=GUEST)
        BookingHold.objects.filter(email=GUEST).delete()
        BookingEvent.objects.filter(booking__in=bookings).delete()
        bookings.delete()
        SessionType.objects.filter(name=SESSION_TYPE).delete()
        Trainer.objects.filter(user__email=COACH).delete()
        Client.objects.filter(email=GUEST).delete()
        User.objects.filter(email=COACH).delete()


def _set_up() -> None:
    """A trainer free 09:00-12:00 every day, teaching one session type; the studio takes guests."""
    from tenant_apps.availability.services import availability_create
    from tenant_apps.trainers.services import session_type_create, trainer_create

    studio = studio_of("alpha")
    assert studio.guest_booking_enabled
    with tenant_context(studio), transaction.atomic():
        trainer = trainer_create(email=COACH, first_name="Gus", last_name="Coach")
        for day in range(7):
            availability_create(trainer=trainer, day_of_week=day, start_time="09:00", end_time="12:00")
        session_type_create(
            name=SESSION_TYPE, duration_minutes=60, price="40.00", trainers=[trainer], max_advance_days=60
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
            yield {"url": f"http://alpha.localhost:{port}", "log": log, "mail": Path(mail_folder)}
    finally:
        with django_db_blocker.unblock():
            run_committed(_tear_down)


def _newest_mail(folder: Path) -> email.message.EmailMessage:
    """The last message of the newest file the file backend wrote (messages are separated by a line of dashes)."""
    files = sorted(folder.glob("*.log"), key=lambda path: path.stat().st_mtime)
    assert files, f"no mail was written to {folder}"
    raw = files[-1].read_bytes().split(b"\n" + b"-" * 79 + b"\n")
    last = [part for part in raw if part.strip()][-1]
    return email.message_from_bytes(last, policy=email.policy.default)


def _booking_exists() -> bool:
    def look() -> bool:
        with tenant_context(studio_of("alpha")):
            return Booking.objects.filter(client__email=GUEST, trainer__user__email=COACH).exists()

    return run_committed(look)


def test_a_guest_books_and_confirms_by_the_link_in_the_mail(page, server):
    page.goto(f"{server['url']}/book/")
    check_page(page, "guest-1-session")
    page.get_by_role("link", name=SESSION_TYPE).click()
    page.get_by_role("link", name="Gus Coach").click()
    check_page(page, "guest-2-week")
    page.locator("a.slot").first.click()

    assert page.get_by_role("heading", name="Check your booking").is_visible(), tail(server["log"])
    assert page.get_by_role("link", name="Sign in to book").is_visible()
    check_page(page, "guest-3-details")

    # A mistake first: the summary and the field say what is wrong.
    page.get_by_role("button", name="Book as a guest").click()
    assert page.get_by_role("heading", name="There is a problem").is_visible()
    # The form's answer is a 400, as it should be: the only problem the page may have met.
    answered, page.console_problems[:] = list(page.console_problems), []
    assert answered and all("400" in problem for problem in answered), answered
    check_page(page, "guest-3-details-error")

    page.get_by_label("First name").fill("Gina")
    page.get_by_label("Last name (optional)").fill("Guest")
    page.get_by_label("Email").fill(GUEST)
    page.get_by_label("Phone").fill("07911 123456")
    page.get_by_role("button", name="Book as a guest").click()
    assert page.get_by_role("heading", name="Check your email").is_visible(), tail(server["log"])
    assert GUEST in page.inner_text("main") and "15 minutes" in page.inner_text("main")
    check_page(page, "guest-4-check-email")
    assert not _booking_exists()

    message = _newest_mail(server["mail"])
    assert message["To"] == GUEST
    link = CONFIRM_LINK.search(message.get_body(preferencelist=("plain",)).get_content()).group(0)
    # The mail names the studio's primary domain; the test's server listens on a port of its own.
    page.goto(server["url"] + urlsplit(link).path)
    assert page.get_by_role("heading", name="Confirm your booking").is_visible(), tail(server["log"])
    check_page(page, "guest-5-confirm")

    page.get_by_role("button", name="Confirm booking").click()
    assert "Your booking is confirmed." in page.inner_text("main"), tail(server["log"])
    assert "/b/" in page.url
    check_page(page, "guest-6-booked")
    assert _booking_exists()
    assert "trainerhub" not in page.content().lower()
