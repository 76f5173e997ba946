"""A visitor who isn't signed in books from /book/ as a guest: the details step offers signing in or a guest
form; the form holds the slot (holds.hold_create) and mails the confirmation link; the hold service's refusals
show with the API's words (just taken, too many holds, guests turned off); following the link and pressing the
button books."""

import re
from datetime import datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client as WebClient
from django_tenants.utils import schema_context, tenant_context

from shared_apps.core.tenancy import site_url
from tenant_apps.bookings.models import Booking, BookingHold
from tenant_apps.bookings.services import booking_create
from tenants.models import Studio
from tests.conftest import next_monday
from tests.factories import ClientFactory, TrainerFactory, UserFactory, WindowFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
GUEST = {
    "first_name": "Gina",
    "last_name": "Guest",
    "email": "gina@example.com",
    "phone": "07911 123456",  # a GB number without its country code: studio A is in GB
    "note": "First time here.",
}
CONFIRM_LINK = re.compile(r"(\S+/book/confirm/([\w-]+)/)")


def _start(hour: int = 9, days_ahead: int = 0) -> datetime:
    """A start on schedule_a's grid (09:00-12:00 London every day), next week."""
    day = next_monday() + timedelta(days=days_ahead)
    return datetime.combine(day, datetime.min.time(), LONDON).replace(hour=hour)


def _details_url(session_type, trainer, start: datetime) -> str:
    trainer_param = "any" if trainer is None else trainer.pk
    return f"/book/details/?type={session_type.pk}&trainer={trainer_param}&start={quote(start.isoformat())}"


def _visitor(**options) -> WebClient:
    return WebClient(HTTP_HOST="alpha.localhost", **options)


def _holds(studio) -> list[BookingHold]:
    with tenant_context(studio):
        return list(BookingHold.objects.select_related("trainer").order_by("pk"))


def _turn_guests_off(studio) -> None:
    with schema_context("public"):
        row = Studio.objects.get(pk=studio.pk)
        row.guest_booking_enabled = False
        row.save(update_fields=["guest_booking_enabled"])


def test_a_visitor_chooses_between_signing_in_and_booking_as_a_guest(studio_a, schedule_a):
    trainer, session_type = schedule_a
    url = _details_url(session_type, trainer, _start())

    response = _visitor().get(url)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="/accounts/login/?next=' + quote(url, safe="/").replace("&", "&amp;") + '"' in page
    assert "Sign in to book" in page and "Or book as a guest" in page
    assert f"We hold this time for {settings.BOOKING_HOLD_MINUTES} minutes" in page
    for label in ("First name", "Last name (optional)", "Email", "Phone", "A note for your trainer (optional)"):
        assert f">{label}</label>" in page
    assert "For example 07400 123456" in page  # numbers of the studio's country (GB)
    assert "How will you pay?" not in page  # packages are for signed-in clients


def test_the_guest_form_holds_the_slot_and_mails_the_link_on_the_studios_domain(
    studio_a, schedule_a, django_capture_on_commit_callbacks
):
    trainer, session_type = schedule_a
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = _visitor(REMOTE_ADDR="203.0.113.7").post(_details_url(session_type, trainer, _start(10)), GUEST)

    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Check your email</h1>" in page and "<strong>gina@example.com</strong>" in page
    assert f"held for you for {settings.BOOKING_HOLD_MINUTES} minutes" in page
    assert ", 10:00</time> (Europe/London)" in page
    assert "No email?" in page and "spam" in page
    [hold] = _holds(studio_a)
    assert (hold.trainer, hold.start_time, hold.email, str(hold.phone)) == (
        trainer,
        _start(10),
        "gina@example.com",
        "+447911123456",
    )
    assert (hold.note, hold.client_address, hold.confirmed_at) == ("First time here.", "203.0.113.7", None)
    [message] = mail.outbox
    assert message.to == ["gina@example.com"]
    link, token = CONFIRM_LINK.search(message.body).groups()
    with tenant_context(studio_a):
        assert link == site_url(f"/book/confirm/{token}/")
        assert link.startswith(f"{settings.SITE_SCHEME}://{studio_a.get_primary_domain().domain}/")
    with tenant_context(studio_a):
        assert not Booking.objects.exists()  # nothing is booked before the guest follows the link


def test_the_confirmation_link_shows_the_held_time_and_the_button_books_it(
    studio_a, schedule_a, django_capture_on_commit_callbacks
):
    trainer, session_type = schedule_a
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _visitor().post(_details_url(session_type, trainer, _start(11)), GUEST)
    _link, token = CONFIRM_LINK.search(mail.outbox[0].body).groups()
    browser = _visitor()

    shown = browser.get(f"/book/confirm/{token}/")
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = browser.post(f"/book/confirm/{token}/")

    assert shown.status_code == 200 and "Confirm booking" in shown.content.decode()
    assert confirmed.status_code == 302 and confirmed["Location"].startswith("/b/")
    with tenant_context(studio_a):
        booking = Booking.objects.select_related("client").get()
        assert BookingHold.objects.get().booking == booking
    assert (booking.client.email, booking.client.first_name, booking.trainer, booking.start_time) == (
        "gina@example.com",
        "Gina",
        trainer,
        _start(11),
    )
    assert booking.notes == "First time here."


def test_any_available_trainer_holds_one_who_is_free_then(studio_a, schedule_a, django_capture_on_commit_callbacks):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        other = TrainerFactory(user=UserFactory(role="trainer", email="other@alpha.test"))
        for day in range(7):
            WindowFactory(trainer=other, day_of_week=day, start_time="09:00", end_time="12:00")
        session_type.trainers.add(other)
        booking_create(
            trainer=trainer, client=ClientFactory(), session_type=session_type, start_time=_start(9), created_by=None
        )

    with django_capture_on_commit_callbacks(execute=True):
        response = _visitor().post(_details_url(session_type, None, _start(9)), GUEST)

    assert response.status_code == 200, response.content.decode()
    [hold] = _holds(studio_a)
    assert hold.trainer == other  # the first trainer is booked then


def test_the_form_says_what_is_missing_with_a_summary_and_by_each_field(studio_a, schedule_a):
    trainer, session_type = schedule_a

    response = _visitor().post(
        _details_url(session_type, trainer, _start()), {"first_name": "", "email": "not-an-email", "phone": ""}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "<title>Error: " in page and "There is a problem" in page
    assert '<a href="#id_first_name">Enter your first name.</a>' in page
    assert '<a href="#id_email">Enter an email address in the correct format, like name@example.com.</a>' in page
    assert '<a href="#id_phone">Enter your phone number.</a>' in page
    assert 'id="email-error"' in page and 'aria-invalid="true"' in page
    assert 'value="not-an-email"' in page  # what was typed stays
    assert not _holds(studio_a)


def test_a_phone_the_service_refuses_shows_with_the_apis_words(studio_a, schedule_a):
    trainer, session_type = schedule_a

    response = _visitor().post(_details_url(session_type, trainer, _start()), {**GUEST, "phone": "12"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page and '<a href="#id_phone">' in page and 'id="phone-error"' in page
    assert not _holds(studio_a)


def test_a_time_taken_meanwhile_answers_just_taken_with_the_nearest_free_times(studio_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        booking_create(
            trainer=trainer, client=ClientFactory(), session_type=session_type, start_time=_start(10), created_by=None
        )

    response = _visitor().post(_details_url(session_type, trainer, _start(10)), GUEST)

    assert response.status_code == 409
    page = response.content.decode()
    assert "Sorry, that time was just taken" in page and "This time is no longer available." in page
    assert ", 09:00</time>" in page and ", 11:00</time>" in page
    assert not _holds(studio_a)


def test_too_many_holds_from_one_address_answer_429_with_the_apis_words(
    studio_a, schedule_a, settings, django_capture_on_commit_callbacks
):
    settings.BOOKING_HOLDS_LIVE_PER_ADDRESS = 1
    trainer, session_type = schedule_a
    visitor = _visitor(REMOTE_ADDR="203.0.113.7")
    with django_capture_on_commit_callbacks(execute=True):
        first = visitor.post(_details_url(session_type, trainer, _start(9)), GUEST)

    refused = visitor.post(_details_url(session_type, trainer, _start(10)), {**GUEST, "email": "other@example.com"})
    elsewhere = _visitor(REMOTE_ADDR="198.51.100.9").post(
        _details_url(session_type, trainer, _start(10)), {**GUEST, "email": "other@example.com"}
    )

    assert first.status_code == 200
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Too many bookings waiting for confirmation. Confirm the ones in your mail, or try again later." in page
    assert elsewhere.status_code == 200  # another address is not held back
    assert [hold.client_address for hold in _holds(studio_a)] == ["203.0.113.7", "198.51.100.9"]


def test_with_guests_turned_off_the_details_step_sends_visitors_to_sign_in(studio_a, schedule_a):
    trainer, session_type = schedule_a
    _turn_guests_off(studio_a)
    url = _details_url(session_type, trainer, _start())

    shown = _visitor().get(url)
    posted = _visitor().post(url, GUEST)

    assert shown.status_code == 302 and shown["Location"] == "/accounts/login/?next=" + quote(url, safe="/")
    assert posted.status_code == 302 and posted["Location"].startswith("/accounts/login/")
    assert not _holds(studio_a)


def test_guests_turned_off_while_the_form_was_open_offer_signing_in_only(studio_a, schedule_a, monkeypatch):
    """The studio's switch is read by the hold service too: turned off between showing and posting the form."""
    trainer, session_type = schedule_a
    url = _details_url(session_type, trainer, _start())
    monkeypatch.setattr("tenant_apps.bookings.holds.current_studio", lambda: Studio(guest_booking_enabled=False))

    response = _visitor().post(url, GUEST)

    assert response.status_code == 403
    page = response.content.decode()
    assert "This studio takes bookings from signed-in clients only." in page
    assert "Sign in to book" in page and "Or book as a guest" not in page and 'name="email"' not in page
    assert not _holds(studio_a)


def test_a_signed_in_client_gets_no_guest_form(studio_a, schedule_a, client_a):
    trainer, session_type = schedule_a
    browser = _visitor()
    with tenant_context(studio_a):
        browser.force_login(client_a)

    page = browser.get(_details_url(session_type, trainer, _start())).content.decode()

    assert "How will you pay?" in page and "Book as a guest" not in page


def test_a_guests_post_on_another_studios_host_holds_nothing_there(studio_a, studio_b, schedule_a):
    trainer, session_type = schedule_a

    response = WebClient(HTTP_HOST="bravo.localhost").post(_details_url(session_type, trainer, _start()), GUEST)

    assert response.status_code == 404  # studio A's session type and trainer don't exist on studio B
    assert not _holds(studio_a)
    assert not _holds(studio_b)
