"""Manage by link (``/b/<token>/``), without signing in: the booking in the studio's zone; a cancel page that
says before confirming whether the credit comes back, as the service then does; a move to another free time
of the same trainer, picked on the /book/ week and confirmed on its own page, with the client's rules; bad,
revoked and expired links answered by a page in the theme; GET changes nothing."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client as WebClient
from django.utils import timezone
from django.utils.html import escape
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import User
from tenant_apps.bookings.models import Booking, BookingStatus
from tenant_apps.bookings.services import booking_create
from tenant_apps.bookings.tokens import booking_manage_links_revoke, booking_manage_token
from tenant_apps.clients.models import Client
from tenant_apps.trainers.models import SessionType, Trainer
from tests.bookings.conftest import LONDON, at, ledger, sell
from tests.conftest import next_monday, run_committed, run_in_threads
from tests.factories import ClientFactory, SessionTypeFactory, TrainerFactory, UserFactory, WindowFactory

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
    assert "ask the studio for a new one" in response.content.decode()


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


def reschedule_link(link: str, **params) -> str:
    return f"{link}reschedule/?{urlencode(params)}"


def iso(moment) -> str:
    return moment.astimezone(LONDON).isoformat()


def test_the_reschedule_page_shows_the_trainers_free_week_but_not_the_bookings_own_time(booked, studio_a):
    booking, link = booked

    response = web().get(reschedule_link(link, week=next_monday().isoformat()))

    assert response.status_code == 200
    page = response.content.decode()
    assert "<!doctype html>" in page and 'id="week"' in page and "Europe/London" in page
    assert page.count('class="slot"') == 20  # 09:00-12:00 every day, 60 minutes: 21, less its own
    assert f'data-instant="{iso(at(next_monday(), "11:00"))}"' in page
    assert f'data-instant="{iso(booking.start_time)}"' not in page
    assert f'href="{escape(reschedule_link(link, start=iso(at(next_monday(), "11:00"))))}"' in page
    assert '<span class="visually-hidden">Move to Monday' in page
    assert status_of(studio_a, booking) == BookingStatus.CONFIRMED


def test_the_week_arrows_swap_only_the_week_for_htmx_and_carry_the_zone_choice(booked):
    _, link = booked
    path = reschedule_link(link, week=next_monday().isoformat(), tz="local")

    whole = web().get(path)
    answer = web().get(path, headers={"HX-Request": "true"})
    partial = answer.content.decode()

    assert answer.status_code == 200 and "HX-Request" in answer["Vary"] and "HX-Request" in whole["Vary"]
    assert "<!doctype html>" in whole.content.decode() and "htmx" in whole.content.decode()
    assert "<!doctype html>" not in partial and 'id="week"' not in partial and "Tess Trainer" not in partial
    assert partial.count('class="slot"') == 20
    following = reschedule_link(link, week=(next_monday() + timedelta(days=7)).isoformat(), tz="local")
    assert f'href="{escape(following)}" hx-get="{escape(following)}" hx-target="#week" hx-push-url="true"' in partial
    assert escape(reschedule_link(link, start=iso(at(next_monday(), "11:00")), tz="local")) in partial
    assert escape(reschedule_link(link, week=next_monday().isoformat(), tz="studio")) in partial


def test_first_week_with_a_free_time_leads_to_the_named_week(booked):
    _, link = booked

    response = web().get(reschedule_link(link, week="first"))

    assert response.status_code == 302
    this_monday = next_monday(0)
    assert response["Location"] == reschedule_link(link, week=this_monday.isoformat()) or response[
        "Location"
    ] == reschedule_link(link, week=next_monday().isoformat())


def test_a_free_time_asks_before_moving_and_the_get_changes_nothing(booked, studio_a):
    booking, link = booked
    eleven = at(next_monday(), "11:00")

    response = web().get(reschedule_link(link, start=iso(eleven)))

    assert response.status_code == 200
    page = response.content.decode()
    day = f"{eleven:%A} {eleven.day} {eleven:%B %Y}"
    assert f'Move from <time datetime="{booking.start_time.isoformat()}">{day}, 10:00</time> to' in page
    assert f"{day}, 11:00\u201312:00</time></strong> (Europe/London)" in page
    assert f'name="start_time" value="{iso(eleven)}"' in page and "csrfmiddlewaretoken" in page
    with tenant_context(studio_a):
        unchanged = Booking.objects.get(pk=booking.pk)
        assert unchanged.start_time == booking.start_time and not unchanged.events.filter(kind="rescheduled").exists()


def test_the_post_moves_the_booking_and_the_manage_page_says_so(booked, studio_a):
    booking, link = booked
    eleven = at(next_monday(), "11:00")

    done = web().post(link + "reschedule/", {"start_time": iso(eleven)}, follow=True)

    assert done.redirect_chain == [(link, 302)]
    assert f"Your booking now starts {eleven:%a} {eleven.day} {eleven:%b %Y} 11:00 (Europe/London)." in (
        done.content.decode()
    )
    with tenant_context(studio_a):
        moved = Booking.objects.get(pk=booking.pk)
        assert moved.start_time == eleven and moved.status == BookingStatus.CONFIRMED
        assert moved.events.filter(kind="rescheduled").count() == 1


def test_a_time_taken_meanwhile_gets_409_and_the_nearest_free_times(booked, studio_a, make_booking):
    booking, link = booked
    eleven = at(next_monday(), "11:00")
    confirm = web().get(reschedule_link(link, start=iso(eleven)))
    assert confirm.status_code == 200
    with tenant_context(studio_a):
        other = ClientFactory(email="other@example.com", first_name="Otto")
    with tenant_context(studio_a):
        booking_create(trainer=booking.trainer, session_type=booking.session_type, client=other, start_time=eleven)

    response = web().post(link + "reschedule/", {"start_time": iso(eleven)})

    assert response.status_code == 409
    page = response.content.decode()
    assert "Sorry, that time was just taken" in page and "This time is no longer available." in page
    assert escape(reschedule_link(link, start=iso(at(next_monday(), "09:00")))) in page
    assert escape(reschedule_link(link, start=iso(eleven))) not in page
    assert escape(reschedule_link(link, start=iso(booking.start_time))) not in page
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).start_time == booking.start_time
    # Asked for afresh, the taken time is not offered for confirming either.
    assert web().get(reschedule_link(link, start=iso(eleven))).status_code == 400


@pytest.mark.parametrize(
    "start",
    ["tomorrow", "", "2030-01-07T11:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "13:00"],
)
def test_a_start_that_is_not_a_time_gets_400_not_an_error(booked, studio_a, start):
    booking, link = booked
    if start == "13:00":
        start = iso(at(next_monday(), "13:00"))  # outside the trainer's hours

    shown = web().get(reschedule_link(link, start=start))
    posted = web().post(link + "reschedule/", {"start_time": start})

    assert shown.status_code == 400 and "This time is not free. Pick one of the free times." in shown.content.decode()
    assert posted.status_code == 400 and "There is a problem" in posted.content.decode()
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).start_time == booking.start_time


def test_the_bookings_own_time_is_not_a_time_to_move_to(booked, studio_a):
    booking, link = booked

    assert web().get(reschedule_link(link, start=iso(booking.start_time))).status_code == 400
    response = web().post(link + "reschedule/", {"start_time": iso(booking.start_time)})

    assert response.status_code == 400
    assert "The booking already starts at this time." in response.content.decode()


def test_inside_the_window_the_page_says_so_up_front_and_a_move_is_refused(booked, studio_a):
    booking, link = booked
    set_policy(studio_a, cancellation_window_hours=24 * 60)
    eleven = at(next_monday(), "11:00")

    page = web().get(link + "reschedule/")
    confirm = web().get(reschedule_link(link, start=iso(eleven)))
    response = web().post(link + "reschedule/", {"start_time": iso(eleven)})

    assert page.status_code == 200
    content = page.content.decode()
    assert "You can't move this booking online" in content
    assert "It is too late to move this booking; please contact the studio." in content
    assert 'class="slot"' not in content and 'id="week"' not in content
    assert confirm.status_code == 200 and 'type="submit"' not in confirm.content.decode()
    swapped = web().get(reschedule_link(link, week=next_monday().isoformat()), headers={"HX-Request": "true"})
    assert swapped["HX-Redirect"] == reschedule_link(link, week=next_monday().isoformat())  # the whole page says why
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
    eleven = at(next_monday(), "11:00")

    assert "It is too late to move this booking" in web().get(link + "reschedule/").content.decode()
    response = web().post(link + "reschedule/", {"start_time": iso(eleven)})

    assert response.status_code == 409
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).start_time == booking.start_time


def test_a_client_without_an_account_moves_by_link(studio_a, make_booking):
    with tenant_context(studio_a):
        guest = ClientFactory(email="guest@example.com", first_name="Gina")
    booking = make_booking(client=guest)
    with tenant_context(studio_a):
        link = f"/b/{booking_manage_token(booking)}/"
    eleven = at(next_monday(), "11:00")

    assert web().post(link + "reschedule/", {"start_time": iso(eleven)}).status_code == 302
    with tenant_context(studio_a):
        moved = Booking.objects.get(pk=booking.pk)
        assert moved.start_time == eleven and moved.events.get(kind="rescheduled").actor is None


def test_rescheduling_needs_the_csrf_token_and_another_studios_host_refuses_it(booked, studio_a):
    booking, link = booked
    eleven = iso(at(next_monday(), "11:00"))

    assert web(enforce_csrf_checks=True).post(link + "reschedule/", {"start_time": eleven}).status_code == 403
    assert web("bravo.localhost").get(link + "reschedule/").status_code == 404
    assert web("bravo.localhost").get(reschedule_link(link, start=eleven)).status_code == 404
    assert web("bravo.localhost").post(link + "reschedule/", {"start_time": eleven}).status_code == 404
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).start_time == booking.start_time


def test_a_revoked_or_tampered_link_moves_nothing_and_gets_the_link_page(booked, studio_a):
    booking, link = booked
    eleven = iso(at(next_monday(), "11:00"))
    with tenant_context(studio_a):
        booking_manage_links_revoke(booking=booking)

    for response in (
        web().get(reschedule_link(link, week=next_monday().isoformat())),
        web().get(reschedule_link(link, start=eleven)),
        web().post(link + "reschedule/", {"start_time": eleven}),
    ):
        assert response.status_code == 410
        assert "This link doesn't work" in response.content.decode()
    assert web().get(reschedule_link(link[:-3] + "xx/", start=eleven)).status_code == 404
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).start_time == booking.start_time


def test_the_link_of_a_session_that_has_passed_moves_nothing(booked, studio_a):
    booking, link = booked
    with tenant_context(studio_a):
        shift = booking.end_time - timezone.now() + timedelta(days=2)
        Booking.objects.filter(pk=booking.pk).update(
            start_time=booking.start_time - shift,
            end_time=booking.end_time - shift,
            blocked_from=booking.blocked_from - shift,
            blocked_until=booking.blocked_until - shift,
        )

    assert web().get(link + "reschedule/").status_code == 410
    response = web().post(link + "reschedule/", {"start_time": iso(at(next_monday(), "11:00"))})

    assert response.status_code == 410 and "This link doesn't work" in response.content.decode()
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).start_time == booking.start_time - shift


def test_the_reschedule_page_says_when_the_booking_cant_move_any_more(booked, studio_a, schedule_a):
    _, link = booked
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        session_type.trainers.remove(trainer)

    response = web().get(link + "reschedule/")

    assert response.status_code == 200
    assert "This trainer does not offer this session type." in response.content.decode()
    assert 'class="slot"' not in response.content.decode()
    web().post(link + "cancel/")
    cancelled = web().get(link + "reschedule/").content.decode()
    assert "This booking is cancelled: it can't be moved." in cancelled and 'class="slot"' not in cancelled


RACERS = 4


def test_clients_racing_by_link_for_one_time_get_one_move_and_just_taken_pages(studio_a):
    """Real threads, each on its own connection, against committed data: the move's trainer lock lets one
    through; the others hear "just taken" (409) and keep their time."""

    def create():
        with tenant_context(studio_a):
            trainer = TrainerFactory(
                user=UserFactory(role="trainer", email="link-racer-coach@alpha.test"),
                display_name="Link Racer Coach",
                timezone="Europe/London",
            )
            for day in range(7):
                WindowFactory(trainer=trainer, day_of_week=day, start_time="09:00", end_time="12:00")
            session_type = SessionTypeFactory(name="Link race", trainers=[trainer], cancellation_window_hours=24)
            links = []
            for index in range(RACERS):
                racer = ClientFactory(email=f"link-racer{index}@example.com", first_name=f"Racer {index}")
                booking = booking_create(
                    trainer=trainer,
                    session_type=session_type,
                    client=racer,
                    start_time=at(next_monday() + timedelta(days=index), "10:00"),
                )
                links.append((booking.pk, f"/b/{booking_manage_token(booking)}/"))
            return links

    def remove():
        with tenant_context(studio_a):
            Booking.objects.filter(trainer__display_name="Link Racer Coach").delete()
            SessionType.objects.filter(name="Link race").delete()
            Trainer.objects.filter(display_name="Link Racer Coach").delete()
            User.objects.filter(email="link-racer-coach@alpha.test").delete()
            Client.objects.filter(email__startswith="link-racer").delete()

    links = run_committed(create)
    try:
        assert not isinstance(links, Exception), links
        sunday = at(next_monday() + timedelta(days=6), "11:00")

        results = run_in_threads(
            RACERS, lambda index: web().post(links[index][1] + "reschedule/", {"start_time": iso(sunday)})
        )

        statuses = sorted(getattr(result, "status_code", repr(result)) for result in results)
        assert statuses == [302] + [409] * (RACERS - 1), results
        assert all("just taken" in r.content.decode() for r in results if r.status_code == 409)

        def starts():
            with tenant_context(studio_a):
                return sorted(
                    Booking.objects.filter(pk__in=[pk for pk, _ in links]).values_list("start_time", flat=True)
                )

        moved = run_committed(starts)
        assert moved.count(sunday) == 1 and len(moved) == RACERS
    finally:
        outcome = run_committed(remove)
        assert not isinstance(outcome, Exception), outcome
