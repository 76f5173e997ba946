"""Manage by link (``/b/<token>/``), without signing in: the booking in the studio's zone; a cancel page that
says before confirming whether the credit comes back, as the service then does; a move to another free time
with the client's rules; bad, revoked and expired links answered by a page in the theme; GET changes nothing."""

from datetime import timedelta

import pytest
from django.test import Client as WebClient
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenant_apps.bookings.models import Booking, BookingStatus
from tenant_apps.bookings.services import booking_create
from tenant_apps.bookings.tokens import booking_manage_links_revoke, booking_manage_token
from tenant_apps.trainers.models import SessionType
from tests.bookings.conftest import at, ledger, sell
from tests.conftest import next_monday
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
COMES_BACK = "Your credit comes back to your package Five."
FORFEITED = "the credit is <strong>not</strong> returned"


@pytest.fixture
def pack(studio_a, booking_client_a):
    with tenant_context(studio_a):
        return sell(booking_client_a, name="Five", sessions_count=5)


@pytest.fixture
def make_booking(studio_a, schedule_a, booking_client_a):
    """make_booking(**service kwargs) → a booking with Tess next Monday 10:00 (London), of Cleo by default."""
    trainer, session_type = schedule_a

    def build(**fields):
        fields.setdefault("client", booking_client_a)
        with tenant_context(studio_a):
            return booking_create(
                trainer=trainer, session_type=session_type, start_time=at(next_monday(), "10:00"), **fields
            )

    return build


@pytest.fixture
def booked(studio_a, make_booking, pack):
    """Cleo's booking with Tess next Monday 10:00 (London), paid by a credit of Five; and its manage link."""
    booking = make_booking(client_package=pack)
    with tenant_context(studio_a):
        return booking, f"/b/{booking_manage_token(booking)}/"


def web(host: str = "alpha.localhost", **options) -> WebClient:
    return WebClient(HTTP_HOST=host, **options)


def set_policy(studio, **policy) -> None:
    with tenant_context(studio):
        SessionType.objects.update(**policy)


def status_of(studio, booking) -> str:
    with tenant_context(studio):
        return Booking.objects.get(pk=booking.pk).status


def test_the_manage_page_shows_the_booking_in_the_studios_zone_without_signing_in(booked):
    booking, link = booked

    response = web().get(link)

    assert response.status_code == 200
    page = response.content.decode()
    local = booking.start_time.astimezone(at(next_monday(), "10:00").tzinfo)
    assert "PT 60" in page and "Tess Trainer" in page and "Confirmed" in page
    assert f"{local:%A} {local.day} {local:%B %Y}, 10:00\u201311:00" in page
    assert "(Europe/London)" in page
    assert "A credit of your package Five" in page
    assert f'href="{link}cancel/"' in page and f'href="{link}reschedule/"' in page
    assert "trainerhub" not in page.lower()


def test_a_tampered_link_gets_a_friendly_404_page_in_the_theme(booked, studio_a):
    _, link = booked

    response = web().get(link[:-3] + "xx/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "This link doesn't work" in page and "This link is not valid" in page
    assert studio_a.name in page and "Traceback" not in page


def test_a_revoked_link_gets_a_410_page(booked, studio_a):
    booking, link = booked
    with tenant_context(studio_a):
        booking_manage_links_revoke(booking=booking)

    response = web().get(link)

    assert response.status_code == 410
    assert "a newer one was sent" in response.content.decode()


def test_a_link_of_a_session_that_has_passed_gets_a_410_page_and_cancels_nothing(booked, studio_a):
    booking, link = booked
    with tenant_context(studio_a):
        shift = booking.end_time - timezone.now() + timedelta(days=2)
        Booking.objects.filter(pk=booking.pk).update(
            start_time=booking.start_time - shift,
            end_time=booking.end_time - shift,
            blocked_from=booking.blocked_from - shift,
            blocked_until=booking.blocked_until - shift,
        )

    assert web().get(link).status_code == 410
    response = web().post(link + "cancel/")

    assert response.status_code == 410
    assert "already taken place" in response.content.decode()
    assert status_of(studio_a, booking) == BookingStatus.CONFIRMED


def test_a_link_of_studio_a_means_nothing_on_studio_b(booked, studio_a):
    booking, link = booked

    assert web("bravo.localhost").get(link).status_code == 404
    assert web("bravo.localhost").post(link + "cancel/").status_code == 404
    assert status_of(studio_a, booking) == BookingStatus.CONFIRMED


def test_cancelling_outside_the_window_says_the_credit_comes_back_and_it_does(booked, studio_a, pack):
    booking, link = booked

    page = web().get(link + "cancel/")

    assert page.status_code == 200
    assert COMES_BACK in page.content.decode() and FORFEITED not in page.content.decode()
    assert status_of(studio_a, booking) == BookingStatus.CONFIRMED  # the GET changed nothing
    assert ledger(studio_a, pack)[0] == 4

    done = web().post(link + "cancel/", follow=True)

    assert done.redirect_chain == [(link, 302)]
    assert "Your booking is cancelled and your credit came back: 5 left in Five." in done.content.decode()
    assert "<s>" in done.content.decode() and "Cancelled" in done.content.decode()
    with tenant_context(studio_a):
        cancelled = Booking.objects.get(pk=booking.pk)
    assert (cancelled.status, cancelled.cancelled_by, cancelled.is_late_cancellation, cancelled.credit_returned) == (
        "cancelled",
        "client",
        False,
        True,
    )
    assert ledger(studio_a, pack)[0] == 5


def test_cancelling_inside_the_window_says_the_credit_is_forfeited_and_it_is(booked, studio_a, pack):
    booking, link = booked
    set_policy(studio_a, cancellation_window_hours=24 * 60)  # next Monday is now inside the window

    page = web().get(link + "cancel/").content.decode()

    assert FORFEITED in page and COMES_BACK not in page
    done = web().post(link + "cancel/", follow=True)

    assert "It was a late cancellation, so the credit is not returned." in done.content.decode()
    with tenant_context(studio_a):
        cancelled = Booking.objects.get(pk=booking.pk)
    assert (cancelled.status, cancelled.is_late_cancellation, cancelled.credit_returned) == ("cancelled", True, False)
    assert ledger(studio_a, pack)[0] == 4


def test_a_lenient_session_type_says_and_gives_the_credit_back_inside_the_window(booked, studio_a, pack):
    booking, link = booked
    set_policy(studio_a, cancellation_window_hours=24 * 60, late_cancel_forfeits_credit=False)

    assert COMES_BACK in web().get(link + "cancel/").content.decode()
    web().post(link + "cancel/")

    with tenant_context(studio_a):
        cancelled = Booking.objects.get(pk=booking.pk)
    assert (cancelled.is_late_cancellation, cancelled.credit_returned) == (True, True)
    assert ledger(studio_a, pack)[0] == 5


def test_a_client_without_an_account_cancels_as_the_client(studio_a, make_booking):
    with tenant_context(studio_a):
        guest = ClientFactory(email="guest@example.com", first_name="Gina")
    booking = make_booking(client=guest)
    set_policy(studio_a, cancellation_window_hours=24 * 60)
    with tenant_context(studio_a):
        link = f"/b/{booking_manage_token(booking)}/"

    assert "Nothing was paid" in web().get(link + "cancel/").content.decode()
    web().post(link + "cancel/")

    with tenant_context(studio_a):
        cancelled = Booking.objects.get(pk=booking.pk)
    assert (cancelled.status, cancelled.cancelled_by, cancelled.is_late_cancellation) == ("cancelled", "client", True)


def test_cancelling_needs_the_csrf_token(booked, studio_a, pack):
    booking, link = booked
    browser = web(enforce_csrf_checks=True)

    assert browser.post(link + "cancel/").status_code == 403
    assert status_of(studio_a, booking) == BookingStatus.CONFIRMED

    page = browser.get(link + "cancel/")
    response = browser.post(link + "cancel/", {"csrfmiddlewaretoken": page.context["csrf_token"]})
    assert response.status_code == 302
    assert status_of(studio_a, booking) == BookingStatus.CANCELLED


def test_an_already_cancelled_booking_says_so_and_cancels_nothing_twice(booked, studio_a, pack):
    _, link = booked
    web().post(link + "cancel/")

    page = web().get(link + "cancel/")
    again = web().post(link + "cancel/")

    assert "This booking is already cancelled: there is nothing to cancel." in page.content.decode()
    assert 'type="submit"' not in page.content.decode()
    assert again.status_code == 409 and "There is a problem" in again.content.decode()
    assert ledger(studio_a, pack)[0] == 5  # refunded once
    assert "can no longer be changed" in web().get(link).content.decode()


def test_the_reschedule_page_lists_the_trainers_free_times_and_moves_the_booking(booked, studio_a):
    booking, link = booked
    eleven = at(next_monday(), "11:00")

    page = web().get(link + "reschedule/")

    assert page.status_code == 200
    content = page.content.decode()
    assert "times in Europe/London" in content
    assert f'value="{eleven.astimezone(booking.start_time.tzinfo).isoformat()}"' in content
    assert f'value="{booking.start_time.isoformat()}"' not in content  # its own time is not offered
    assert status_of(studio_a, booking) == BookingStatus.CONFIRMED

    done = web().post(link + "reschedule/", {"start_time": eleven.astimezone(booking.start_time.tzinfo).isoformat()})

    assert done.status_code == 302
    with tenant_context(studio_a):
        moved = Booking.objects.get(pk=booking.pk)
        assert moved.start_time == eleven
        assert moved.events.filter(kind="rescheduled").count() == 1


def test_a_time_that_is_not_free_is_refused_on_the_form(booked, studio_a):
    booking, link = booked

    response = web().post(link + "reschedule/", {"start_time": at(next_monday(), "13:00").isoformat()})

    assert response.status_code == 400
    assert "This time is no longer free. Pick another one." in response.content.decode()
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).start_time == booking.start_time


def test_moving_inside_the_window_is_refused_with_the_apis_message(booked, studio_a):
    booking, link = booked
    set_policy(studio_a, cancellation_window_hours=24 * 60)
    eleven = at(next_monday(), "11:00").astimezone(booking.start_time.tzinfo)

    response = web().post(link + "reschedule/", {"start_time": eleven.isoformat()})

    assert response.status_code == 409
    assert "It is too late to move this booking; please contact the studio." in response.content.decode()
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).start_time == booking.start_time


def test_a_client_without_an_account_is_held_to_the_clients_window_too(studio_a, make_booking):
    with tenant_context(studio_a):
        guest = ClientFactory(email="guest@example.com", first_name="Gina")
    booking = make_booking(client=guest)
    set_policy(studio_a, cancellation_window_hours=24 * 60)
    with tenant_context(studio_a):
        link = f"/b/{booking_manage_token(booking)}/"
    eleven = at(next_monday(), "11:00").astimezone(booking.start_time.tzinfo)

    response = web().post(link + "reschedule/", {"start_time": eleven.isoformat()})

    assert response.status_code == 409
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).start_time == booking.start_time


def test_rescheduling_needs_the_csrf_token_and_another_studios_host_refuses_it(booked, studio_a):
    booking, link = booked
    eleven = at(next_monday(), "11:00").astimezone(booking.start_time.tzinfo).isoformat()

    assert web(enforce_csrf_checks=True).post(link + "reschedule/", {"start_time": eleven}).status_code == 403
    assert web("bravo.localhost").get(link + "reschedule/").status_code == 404
    assert web("bravo.localhost").post(link + "reschedule/", {"start_time": eleven}).status_code == 404
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).start_time == booking.start_time


def test_the_reschedule_page_says_when_there_is_no_time_to_move_to(booked, studio_a, schedule_a):
    _, link = booked
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        session_type.trainers.remove(trainer)

    response = web().get(link + "reschedule/")

    assert response.status_code == 200
    assert "has no free time for this session in the next two weeks" in response.content.decode()
    web().post(link + "cancel/")
    assert "This booking is cancelled: it can't be moved." in web().get(link + "reschedule/").content.decode()
