"""A guest's confirmation link (``/book/confirm/<token>/``): GET shows the held time and a button and books
nothing (mail scanners follow links); the POST books and leads to the booking's manage page; a used, expired or
unknown link, or one of another studio, gets a page in the theme."""

from datetime import timedelta

import pytest
from django.test import Client as WebClient
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenant_apps.bookings import holds
from tenant_apps.bookings.models import Booking, BookingHold
from tests.bookings.conftest import at
from tests.conftest import next_monday

pytestmark = pytest.mark.django_db
TOKEN = "a-guests-token-from-the-mail-0123456789abcdef"


@pytest.fixture
def held(studio_a, schedule_a):
    """A guest's hold on Tess's next Monday 10:00, and its confirmation link (the token the mail would hold)."""
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        hold = BookingHold.objects.create(
            trainer=trainer,
            session_type=session_type,
            start_time=at(next_monday(), "10:00"),
            end_time=at(next_monday(), "11:00"),
            blocked_from=at(next_monday(), "10:00"),
            blocked_until=at(next_monday(), "11:00"),
            first_name="Gina",
            last_name="Guest",
            email="gina@example.com",
            phone="+447911123456",
            expires_at=timezone.now() + timedelta(minutes=15),
            client_address="203.0.113.7",
            token_hash=holds.hold_token_hash(TOKEN),
        )
    return hold, f"/book/confirm/{TOKEN}/"


def web(host: str = "alpha.localhost", **options) -> WebClient:
    return WebClient(HTTP_HOST=host, **options)


def bookings(studio) -> int:
    with tenant_context(studio):
        return Booking.objects.count()


def test_the_link_shows_the_held_time_and_a_button_and_books_nothing(held, studio_a):
    hold, link = held

    response = web().get(link)

    assert response.status_code == 200
    page = response.content.decode()
    assert "PT 60" in page and "Tess Trainer" in page and "Gina Guest" in page
    assert ", 10:00</time> (Europe/London)" in page
    assert f'<form method="post" action="{link}">' in page and "Confirm booking" in page
    assert bookings(studio_a) == 0
    with tenant_context(studio_a):
        assert BookingHold.objects.get(pk=hold.pk).confirmed_at is None


def test_confirming_books_and_leads_to_the_manage_page(held, studio_a):
    hold, link = held

    response = web().post(link, follow=True)

    [(manage_link, status)] = response.redirect_chain
    assert status == 302 and manage_link.startswith("/b/")
    page = response.content.decode()
    assert "Your booking is confirmed." in page and "Your booking" in page and "Tess Trainer" in page
    with tenant_context(studio_a):
        booking = Booking.objects.get()
        assert BookingHold.objects.get(pk=hold.pk).booking == booking
    assert (booking.client.email, booking.start_time) == ("gina@example.com", at(next_monday(), "10:00"))


def test_a_used_link_says_so_and_books_nothing_more(held, studio_a):
    _, link = held
    web().post(link)

    shown, again = web().get(link), web().post(link)

    assert shown.status_code == again.status_code == 409
    assert "already confirmed" in shown.content.decode() and "already confirmed" in again.content.decode()
    assert bookings(studio_a) == 1


def test_an_expired_link_says_so_and_books_nothing(held, studio_a):
    hold, link = held
    with tenant_context(studio_a):
        BookingHold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    shown, posted = web().get(link), web().post(link)

    assert shown.status_code == posted.status_code == 409
    assert "This link has expired" in shown.content.decode() and "This link has expired" in posted.content.decode()
    assert bookings(studio_a) == 0


def test_an_unknown_link_gets_a_friendly_404(held, studio_a):
    response = web().get("/book/confirm/not-a-token/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "This confirmation link is not valid" in page and studio_a.name in page
    assert web().post("/book/confirm/not-a-token/").status_code == 404


def test_a_link_of_studio_a_means_nothing_on_studio_b(held, studio_a):
    _, link = held

    assert web("bravo.localhost").get(link).status_code == 404
    assert web("bravo.localhost").post(link).status_code == 404
    assert bookings(studio_a) == 0


def test_confirming_needs_the_csrf_token(held, studio_a):
    _, link = held
    browser = web(enforce_csrf_checks=True)

    assert browser.post(link).status_code == 403
    assert bookings(studio_a) == 0

    page = browser.get(link)
    assert browser.post(link, {"csrfmiddlewaretoken": page.context["csrf_token"]}).status_code == 302
    assert bookings(studio_a) == 1
