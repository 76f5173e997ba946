"""The desk's booking form (a free time → a booking) and a booking's panel (details, history, actions): the same
services as the API, with their refusals on the page; a trainer sees their own bookings only, a client and a
visitor get nothing, another studio's ids are not found."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F
from django.test import Client as Browser
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenant_apps.bookings.models import Booking, BookingEvent, BookingStatus, PaymentState
from tenant_apps.bookings.services import booking_create
from tenant_apps.clients.models import Client
from tenant_apps.packages.models import ClientPackage, CreditTransaction
from tenant_apps.packages.services import package_assign
from tests.conftest import next_monday
from tests.factories import ClientFactory, SessionPackageFactory, TrainerFactory, WindowFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def _browser(studio, user=None) -> Browser:
    browser = Browser(HTTP_HOST=f"{studio.slug}.localhost")
    if user is not None:
        with tenant_context(studio):
            browser.force_login(user)
    return browser


def _start(days_ahead: int = 0, hour: int = 9) -> datetime:
    """A start on the grid of schedule_a (09:00-12:00 London, every day), next week or later."""
    day = next_monday() + timedelta(days=days_ahead)
    return datetime.combine(day, datetime.min.time(), LONDON).replace(hour=hour)


def _new_url(trainer, start: datetime, **more) -> str:
    extra = "".join(f"&{key}={value}" for key, value in more.items())
    return f"/desk/bookings/new/?trainer={trainer.pk}&start={quote(start.isoformat())}{extra}"


def _form(trainer, session_type, start: datetime, **fields) -> dict:
    return {
        "trainer": trainer.pk,
        "session_type": session_type.pk,
        "start": start.strftime("%Y-%m-%dT%H:%M"),  # what a datetime-local input sends: the studio's zone
        "payment": "unpaid",
        "notes": "",
        **fields,
    }


def _sell(studio, client, *, count: int = 5) -> ClientPackage:
    with tenant_context(studio):
        package = SessionPackageFactory(name="Five pack", sessions_count=count, price="200.00", validity_days=60)
        return package_assign(package=package, client=client, payment_method="cash", amount_paid=Decimal("200.00"))


def _book(studio, trainer, session_type, client, start: datetime, **fields) -> Booking:
    with tenant_context(studio):
        return booking_create(trainer=trainer, client=client, session_type=session_type, start_time=start, **fields)


def _started(studio, trainer, session_type, client, *, minutes_ago: int = 30, **fields) -> Booking:
    """A confirmed session that began ``minutes_ago`` (off the grid: the only way to book a start in the past)."""
    start = (timezone.now() - timedelta(minutes=minutes_ago)).replace(second=0, microsecond=0)
    return _book(studio, trainer, session_type, client, start, off_grid=True, **fields)


def _reload(studio, model, pk):
    with tenant_context(studio):
        return model.objects.get(pk=pk)


def _panel_url(booking) -> str:
    return f"/desk/bookings/{booking.pk}/"


# -- booking from a free time ----------------------------------------------------------------------------------


def test_the_front_desk_finds_a_client_by_part_of_a_phone_number_and_books_them_with_their_package(
    studio_a, manager_a, schedule_a
):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client = ClientFactory(first_name="Petra", last_name="Phone", phone="+447700900123")
        ClientFactory(first_name="Other", phone="+447700111222")
    package = _sell(studio_a, client)
    browser = _browser(studio_a, manager_a)
    start = _start(1, 10)

    # Typing part of the number: htmx asks the search, which answers the matching clients only.
    results = browser.get(
        f"/desk/bookings/clients/search/?q=0900+123&trainer={trainer.pk}&start={quote(start.isoformat())}",
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Petra Phone" in results and "Other" not in results
    chosen_url = re.search(r'href="([^"]*client=\d+[^"]*)"', results).group(1).replace("&amp;", "&")
    assert f"client={client.pk}" in chosen_url and f"trainer={trainer.pk}" in chosen_url

    form = browser.get(chosen_url).content.decode()
    assert "Petra Phone" in form
    assert "Five pack: 5 credits left, valid until" in form
    assert re.search(rf'name="payment" value="{package.pk}"[^>]*checked', form)  # the package pays by default

    response = browser.post(
        "/desk/bookings/new/",
        _form(trainer, session_type, start, client=client.pk, payment=package.pk, notes="Knee injury"),
    )

    assert response.status_code == 302
    with tenant_context(studio_a):
        booking = Booking.objects.get(client=client)
        assert response["Location"] == f"/desk/bookings/{booking.pk}/"
        assert booking.start_time == start and booking.trainer == trainer and booking.notes == "Knee injury"
        assert booking.payment_state == PaymentState.CREDIT and booking.client_package_id == package.pk
        assert ClientPackage.objects.get(pk=package.pk).sessions_remaining == 4
        assert CreditTransaction.objects.filter(booking=booking, delta=-1).count() == 1
        assert booking.created_by == manager_a
    panel = browser.get(response["Location"]).content.decode()
    assert "Booked PT 60 for Petra Phone." in panel


def test_the_search_works_without_javascript_as_a_plain_get_of_the_form(studio_a, owner_a, schedule_a):
    trainer, _session_type = schedule_a
    with tenant_context(studio_a):
        ClientFactory(first_name="Nora", last_name="Plain", email="nora@example.com")
    browser = _browser(studio_a, owner_a)

    response = browser.get(_new_url(trainer, _start(1, 9)) + "&q=nora@exa")

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" in page and "Nora Plain" in page
    # Too short a search says nothing rather than listing everyone.
    assert "Nora Plain" not in browser.get(_new_url(trainer, _start(1, 9)) + "&q=n").content.decode()


def test_the_form_for_htmx_is_the_part_it_swaps_and_the_whole_page_otherwise(studio_a, owner_a, schedule_a):
    trainer, _session_type = schedule_a
    browser = _browser(studio_a, owner_a)

    full = browser.get(_new_url(trainer, _start(1, 9)))
    part = browser.get(_new_url(trainer, _start(1, 9)), headers={"HX-Request": "true"})

    assert "<html" in full.content.decode() and "<html" not in part.content.decode()
    assert 'id="booking-new"' in part.content.decode()
    assert "HX-Request" in full["Vary"] and "HX-Request" in part["Vary"]
    # The free time is preselected, in the studio's zone.
    assert _start(1, 9).strftime("%Y-%m-%dT%H:%M") in part.content.decode()


def test_a_new_client_is_added_on_the_form_and_booked_unpaid(studio_a, manager_a, schedule_a):
    trainer, session_type = schedule_a
    browser = _browser(studio_a, manager_a)

    response = browser.post(
        "/desk/bookings/new/",
        _form(trainer, session_type, _start(1, 9), first_name="Walt", last_name="New", email="walt@example.com"),
    )

    assert response.status_code == 302
    with tenant_context(studio_a):
        booking = Booking.objects.get(client__email="walt@example.com")
        assert booking.payment_state == PaymentState.UNPAID and booking.client.full_name == "Walt New"


def test_a_refused_booking_leaves_no_new_client_behind(studio_a, manager_a, schedule_a):
    trainer, session_type = schedule_a
    browser = _browser(studio_a, manager_a)

    response = browser.post(
        "/desk/bookings/new/",
        _form(trainer, session_type, _start(1, 14), first_name="Walt", email="walt@example.com"),
    )

    assert response.status_code == 400
    assert "does not offer a session starting at this time" in response.content.decode()
    with tenant_context(studio_a):
        assert not Client.objects.filter(email="walt@example.com").exists()


def test_a_walk_in_off_the_grid_is_booked_outside_the_offered_times(studio_a, manager_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client = ClientFactory()
    browser = _browser(studio_a, manager_a)

    response = browser.post(
        "/desk/bookings/new/", _form(trainer, session_type, _start(1, 14), client=client.pk, off_grid="on")
    )

    assert response.status_code == 302
    with tenant_context(studio_a):
        booking = Booking.objects.get(client=client)
        assert booking.start_time == _start(1, 14)
        assert BookingEvent.objects.get(booking=booking, kind="created").off_grid


def test_complimentary_is_the_managers_choice_on_the_form(studio_a, manager_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client = ClientFactory()
    browser = _browser(studio_a, manager_a)

    response = browser.post(
        "/desk/bookings/new/", _form(trainer, session_type, _start(1, 9), client=client.pk, payment="complimentary")
    )

    assert response.status_code == 302
    with tenant_context(studio_a):
        assert Booking.objects.get(client=client).payment_state == PaymentState.COMPLIMENTARY


def test_a_time_taken_meanwhile_shows_the_message_and_the_nearest_free_times_on_the_form(
    studio_a, manager_a, schedule_a
):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client, someone = ClientFactory(), ClientFactory()
    _book(studio_a, trainer, session_type, someone, _start(1, 10))
    browser = _browser(studio_a, manager_a)

    response = browser.post("/desk/bookings/new/", _form(trainer, session_type, _start(1, 10), client=client.pk))

    page = response.content.decode()
    assert response.status_code == 409
    assert "There is a problem" in page and "This time is no longer available." in page
    nearest = page.split("Nearest free times")[1].split("</ul>")[0]
    assert quote(_start(1, 9).isoformat()) in nearest and quote(_start(1, 11).isoformat()) in nearest
    assert quote(_start(1, 10).isoformat()) not in nearest
    with tenant_context(studio_a):
        assert not Booking.objects.filter(client=client).exists()


def test_form_errors_show_in_a_summary_and_by_their_fields(studio_a, manager_a, schedule_a):
    trainer, session_type = schedule_a
    browser = _browser(studio_a, manager_a)

    response = browser.post("/desk/bookings/new/", _form(trainer, session_type, _start(1, 9)) | {"start": "soon"})

    page = response.content.decode()
    assert response.status_code == 400
    assert 'class="error-summary"' in page
    assert "Choose a client from the search, or add a new one." in page
    assert '<a href="#id_start">Give the start as a date and a time.</a>' in page
    assert 'id="id_start-error"' in page


# -- who may book ----------------------------------------------------------------------------------------------


def test_a_trainer_books_into_their_own_calendar_only(studio_a, trainer_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        other = TrainerFactory(display_name="Otto Other")
        WindowFactory(trainer=other, day_of_week=_start(1).weekday(), start_time="09:00", end_time="12:00")
        session_type.trainers.add(other)
        client = ClientFactory(primary_trainer=trainer)
    browser = _browser(studio_a, trainer_a)

    refused = browser.post("/desk/bookings/new/", _form(other, session_type, _start(1, 9), client=client.pk))
    booked = browser.post("/desk/bookings/new/", _form(trainer, session_type, _start(1, 9), client=client.pk))

    assert refused.status_code == 403
    assert "Trainers book and move sessions in their own calendar only." in refused.content.decode()
    assert booked.status_code == 302
    with tenant_context(studio_a):
        assert list(Booking.objects.filter(client=client).values_list("trainer", flat=True)) == [trainer.pk]


def test_a_trainer_can_name_only_the_clients_they_train_and_cannot_add_one(studio_a, trainer_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        stranger = ClientFactory(first_name="Stranger")
    browser = _browser(studio_a, trainer_a)

    named = browser.post("/desk/bookings/new/", _form(trainer, session_type, _start(1, 9), client=stranger.pk))
    added = browser.post(
        "/desk/bookings/new/", _form(trainer, session_type, _start(1, 9), first_name="New", email="new@example.com")
    )
    searched = browser.get(_new_url(trainer, _start(1, 9)) + "&q=Stranger").content.decode()

    assert named.status_code == 400 and "Choose a client from the search" in named.content.decode()
    assert added.status_code == 400 and "Choose a client from the search." in added.content.decode()
    assert "No client matches" in searched
    with tenant_context(studio_a):
        assert not Booking.objects.exists() and not Client.objects.filter(email="new@example.com").exists()


@pytest.mark.parametrize("htmx", [False, True])
def test_a_nul_byte_in_the_search_is_refused_cleanly(studio_a, owner_a, schedule_a, htmx):
    trainer, _ = schedule_a
    with tenant_context(studio_a):
        ClientFactory(first_name="Nora")
    browser = _browser(studio_a, owner_a)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    searched = browser.get(f"/desk/bookings/clients/search/?q=%00%00&trainer={trainer.pk}", **headers)
    page = browser.get(_new_url(trainer, _start(1, 9)) + "&q=No%00ra", **headers)

    # htmx swaps only a 2xx answer: it gets the results saying why.
    assert searched.status_code == page.status_code == (200 if htmx else 400)
    for response in (searched, page):
        html = response.content.decode()
        assert "that text can&#x27;t be searched" in html and "Nora" not in html


def test_the_form_offers_a_trainer_only_their_own_calendar(studio_a, trainer_a, owner_a, schedule_a):
    trainer, _ = schedule_a
    with tenant_context(studio_a):
        other = TrainerFactory(display_name="Otto Other")
    browser = _browser(studio_a, trainer_a)

    own = browser.get(_new_url(trainer, _start(1, 9))).content.decode()
    refused = browser.get(_new_url(other, _start(1, 9)))
    searched = browser.get(f"/desk/bookings/clients/search/?q=ab&trainer={other.pk}")
    unknown = browser.get(f"/desk/bookings/new/?trainer={other.pk + 100}")

    assert "Otto Other" not in own
    assert refused.status_code == searched.status_code == 403
    assert "Trainers book and move sessions in their own calendar only." in refused.content.decode()
    assert unknown.status_code == 404
    assert "Otto Other" in _browser(studio_a, owner_a).get(_new_url(other, _start(1, 9))).content.decode()


def test_another_studios_client_id_is_refused_in_the_form(studio_a, studio_b, manager_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_b):
        theirs = ClientFactory()
    with tenant_context(studio_a):
        assert not Client.objects.filter(pk=theirs.pk).exists()
    browser = _browser(studio_a, manager_a)

    response = browser.post("/desk/bookings/new/", _form(trainer, session_type, _start(1, 9), client=theirs.pk))

    assert response.status_code == 400
    assert "Choose a client from the search, or add a new one." in response.content.decode()
    with tenant_context(studio_a):
        assert not Booking.objects.exists()


# -- the panel and its actions ---------------------------------------------------------------------------------


def test_the_panel_shows_the_details_the_history_and_the_actions_of_its_status(studio_a, owner_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client = ClientFactory(first_name="Dora", last_name="Detail")
    booking = _book(studio_a, trainer, session_type, client, _start(1, 10), notes="Bring water", created_by=owner_a)
    browser = _browser(studio_a, owner_a)

    response = browser.get(_panel_url(booking))
    part = browser.get(_panel_url(booking), headers={"HX-Request": "true"}).content.decode()

    page = response.content.decode()
    assert response.status_code == 200 and "<html" in page and "<html" not in part
    assert "Dora Detail" in page and "Tess Trainer" in page and "Bring water" in page
    assert f"{_start(1, 10):%H:%M}" in page and "Europe/London" in page
    assert "Confirmed" in page and "To pay at the studio" in page
    assert "Created" in page  # the history
    # Confirmed and not started yet: cancel, move, pay; no confirm, no check-in, no undo.
    assert "/cancel/" in page and "/reschedule/" in page and "/payment/" in page and "/complimentary/" in page
    assert "/confirm/" not in page and "/complete/" not in page and "/undo/" not in page


def test_confirm_a_pending_request(studio_a, manager_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        session_type.requires_confirmation = True
        session_type.save()
        client = ClientFactory()
    booking = _book(studio_a, trainer, session_type, client, _start(1, 9))
    assert booking.status == BookingStatus.PENDING
    browser = _browser(studio_a, manager_a)
    assert "/confirm/" in browser.get(_panel_url(booking)).content.decode()

    response = browser.post(f"/desk/bookings/{booking.pk}/confirm/")

    assert response.status_code == 302 and response["Location"] == _panel_url(booking)
    assert _reload(studio_a, Booking, booking.pk).status == BookingStatus.CONFIRMED
    assert "Booking confirmed" in browser.get(_panel_url(booking)).content.decode()
    # Done once, refused the second time with the service's words.
    again = browser.post(f"/desk/bookings/{booking.pk}/confirm/")
    assert again.status_code == 409 and "A confirmed booking can&#x27;t become confirmed." in again.content.decode()


def test_cancel_as_the_studio_gives_the_credit_back(studio_a, manager_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client = ClientFactory()
    package = _sell(studio_a, client)
    booking = _book(studio_a, trainer, session_type, client, _start(1, 9))
    assert _reload(studio_a, ClientPackage, package.pk).sessions_remaining == 4
    browser = _browser(studio_a, manager_a)
    assert "The client's credit of Five pack comes back." in browser.get(_panel_url(booking)).content.decode()

    response = browser.post(f"/desk/bookings/{booking.pk}/cancel/", {"reason": "Trainer ill"})

    assert response.status_code == 302
    booking = _reload(studio_a, Booking, booking.pk)
    assert booking.status == BookingStatus.CANCELLED and booking.cancelled_by == "studio" and booking.credit_returned
    assert _reload(studio_a, ClientPackage, package.pk).sessions_remaining == 5
    assert "the client&#x27;s credit is back" in browser.get(_panel_url(booking)).content.decode()


def test_complete_then_undo(studio_a, trainer_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client = ClientFactory(primary_trainer=trainer)
    booking = _started(studio_a, trainer, session_type, client)
    browser = _browser(studio_a, trainer_a)
    assert "/complete/" in browser.get(_panel_url(booking)).content.decode()

    completed = browser.post(f"/desk/bookings/{booking.pk}/complete/")
    assert completed.status_code == 302
    assert _reload(studio_a, Booking, booking.pk).status == BookingStatus.COMPLETED
    assert "/undo/" in browser.get(_panel_url(booking)).content.decode()

    undone = browser.post(f"/desk/bookings/{booking.pk}/undo/")
    assert undone.status_code == 302
    assert _reload(studio_a, Booking, booking.pk).status == BookingStatus.CONFIRMED


def test_the_panel_offers_undo_until_booking_undo_s_deadline(studio_a, manager_a, schedule_a, settings):
    settings.BOOKING_UNDO_DAYS = 3
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client = ClientFactory()
    booking = _started(studio_a, trainer, session_type, client)
    browser = _browser(studio_a, manager_a)
    browser.post(f"/desk/bookings/{booking.pk}/complete/")
    with tenant_context(studio_a):
        marking = BookingEvent.objects.filter(booking=booking, to_status=BookingStatus.COMPLETED)
        # Marked on time, four days ago: the session's end and the marking are both past the three days.
        four_days = timedelta(days=4)
        Booking.objects.filter(pk=booking.pk).update(
            **{field: F(field) - four_days for field in ("start_time", "end_time", "blocked_from", "blocked_until")}
        )
        marking.update(created=timezone.now() - timedelta(days=4))

    page = browser.get(_panel_url(booking)).content.decode()

    assert "/undo/" not in page
    with tenant_context(studio_a):
        marking.update(created=timezone.now() - timedelta(days=2))
    assert "/undo/" in browser.get(_panel_url(booking)).content.decode()


def test_no_show_for_htmx_returns_the_refreshed_panel(studio_a, manager_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client = ClientFactory()
    booking = _started(studio_a, trainer, session_type, client)
    browser = _browser(studio_a, manager_a)

    response = browser.post(f"/desk/bookings/{booking.pk}/no-show/", headers={"HX-Request": "true"})

    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert "Marked no-show." in page and "/undo/" in page
    assert "deskBookingChanged" in response["HX-Trigger"]
    assert _reload(studio_a, Booking, booking.pk).status == BookingStatus.NO_SHOW


def test_check_in_before_the_session_starts_is_refused_on_the_panel(studio_a, manager_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client = ClientFactory()
    booking = _book(studio_a, trainer, session_type, client, _start(1, 9))

    response = _browser(studio_a, manager_a).post(f"/desk/bookings/{booking.pk}/complete/")

    assert response.status_code == 409
    assert "once it has started" in response.content.decode()
    assert _reload(studio_a, Booking, booking.pk).status == BookingStatus.CONFIRMED


def test_reschedule_to_a_free_start_of_the_week(studio_a, manager_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client = ClientFactory()
    booking = _book(studio_a, trainer, session_type, client, _start(1, 9))
    browser = _browser(studio_a, manager_a)
    page = browser.get(_panel_url(booking)).content.decode()
    new_start = _start(2, 11)
    assert f'value="{new_start.isoformat()}"' in page
    assert f'value="{_start(1, 9).isoformat()}"' not in page  # its own start is not offered

    response = browser.post(f"/desk/bookings/{booking.pk}/reschedule/", {"start": new_start.isoformat()})

    assert response.status_code == 302
    booking = _reload(studio_a, Booking, booking.pk)
    assert booking.start_time == new_start and booking.trainer == trainer
    assert "Rescheduled" in browser.get(_panel_url(booking)).content.decode()


def test_the_front_desk_moves_a_booking_to_another_trainers_free_time(studio_a, manager_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        other = TrainerFactory(display_name="Otto Other")
        WindowFactory(trainer=other, day_of_week=_start(2).weekday(), start_time="14:00", end_time="16:00")
        session_type.trainers.add(other)
        client = ClientFactory()
    booking = _book(studio_a, trainer, session_type, client, _start(1, 9))
    browser = _browser(studio_a, manager_a)

    page = browser.get(f"{_panel_url(booking)}?trainer={other.pk}").content.decode()
    assert "Free times of Otto Other" in page and f'value="{_start(2, 14).isoformat()}"' in page
    response = browser.post(
        f"/desk/bookings/{booking.pk}/reschedule/", {"start": _start(2, 14).isoformat(), "trainer": other.pk}
    )

    assert response.status_code == 302
    booking = _reload(studio_a, Booking, booking.pk)
    assert booking.trainer_id == other.pk and booking.start_time == _start(2, 14)


@pytest.mark.parametrize(
    ("start", "error"),
    [
        ("0001-01-01T00:00:00+14:00", "Give a time between the years 1970 and 2200."),
        ("9999-12-31T23:59:00-14:00", "Give a time between the years 1970 and 2200."),
        ("soon", "Give the start as a date and a time."),
    ],
)
def test_a_start_the_calendar_cannot_hold_is_no_start_rather_than_an_error(
    studio_a, manager_a, schedule_a, start, error
):
    trainer, session_type = schedule_a
    browser = _browser(studio_a, manager_a)

    shown = browser.get(f"/desk/bookings/new/?trainer={trainer.pk}&start={quote(start)}")
    posted = browser.post("/desk/bookings/new/", _form(trainer, session_type, _start(1, 9)) | {"start": start})

    assert shown.status_code == 200
    assert posted.status_code == 400 and error in posted.content.decode()


def test_reschedule_to_a_start_the_trainer_does_not_offer_is_refused_with_the_services_words(
    studio_a, manager_a, schedule_a
):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client = ClientFactory()
    booking = _book(studio_a, trainer, session_type, client, _start(1, 9))

    response = _browser(studio_a, manager_a).post(
        f"/desk/bookings/{booking.pk}/reschedule/", {"start": _start(2, 15).isoformat()}
    )

    assert response.status_code == 400
    assert "The trainer does not offer a session starting at this time." in response.content.decode()
    assert _reload(studio_a, Booking, booking.pk).start_time == _start(1, 9)


def test_record_a_payment(studio_a, manager_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client = ClientFactory()
    booking = _book(studio_a, trainer, session_type, client, _start(1, 9))
    browser = _browser(studio_a, manager_a)

    refused = browser.post(f"/desk/bookings/{booking.pk}/payment/", {"payment_method": "cash", "amount_paid": "0"})
    response = browser.post(f"/desk/bookings/{booking.pk}/payment/", {"payment_method": "card", "amount_paid": "40"})

    assert refused.status_code == 400 and "There is a problem" in refused.content.decode()
    assert response.status_code == 302
    booking = _reload(studio_a, Booking, booking.pk)
    assert booking.payment_state == PaymentState.PAID and booking.amount_paid == Decimal("40.00")
    assert booking.payment_method == "card" and booking.payment_recorded_by == manager_a


def test_attach_a_package_to_an_unpaid_booking(studio_a, manager_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client = ClientFactory()
    booking = _book(studio_a, trainer, session_type, client, _start(1, 9))
    package = _sell(studio_a, client)
    browser = _browser(studio_a, manager_a)
    assert "Five pack: 5 credits left" in browser.get(_panel_url(booking)).content.decode()

    response = browser.post(f"/desk/bookings/{booking.pk}/attach-package/", {"client_package": package.pk})

    assert response.status_code == 302
    booking = _reload(studio_a, Booking, booking.pk)
    assert booking.payment_state == PaymentState.CREDIT and booking.client_package_id == package.pk
    assert _reload(studio_a, ClientPackage, package.pk).sessions_remaining == 4


def test_another_clients_package_cannot_pay(studio_a, manager_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client, someone = ClientFactory(), ClientFactory()
    booking = _book(studio_a, trainer, session_type, client, _start(1, 9))
    theirs = _sell(studio_a, someone)

    response = _browser(studio_a, manager_a).post(
        f"/desk/bookings/{booking.pk}/attach-package/", {"client_package": theirs.pk}
    )

    assert response.status_code == 400 and "Choose one of the client&#x27;s packages." in response.content.decode()
    assert _reload(studio_a, ClientPackage, theirs.pk).sessions_remaining == 5


def test_notes_and_complimentary(studio_a, manager_a, trainer_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        client = ClientFactory()
    booking = _book(studio_a, trainer, session_type, client, _start(1, 9))

    by_trainer = _browser(studio_a, trainer_a).post(f"/desk/bookings/{booking.pk}/complimentary/")
    notes = _browser(studio_a, manager_a).post(f"/desk/bookings/{booking.pk}/notes/", {"notes": "Bring a towel"})
    waived = _browser(studio_a, manager_a).post(f"/desk/bookings/{booking.pk}/complimentary/", {"reason": "Promo"})

    assert by_trainer.status_code == 403
    assert "Only the owner or a manager can make a session complimentary." in by_trainer.content.decode()
    assert notes.status_code == 302 and waived.status_code == 302
    booking = _reload(studio_a, Booking, booking.pk)
    assert booking.notes == "Bring a towel" and booking.payment_state == PaymentState.COMPLIMENTARY


# -- who may open a booking ------------------------------------------------------------------------------------


def test_a_trainer_cannot_open_or_act_on_another_trainers_booking(studio_a, trainer_a, schedule_a):
    _trainer, session_type = schedule_a
    with tenant_context(studio_a):
        other = TrainerFactory()
        WindowFactory(trainer=other, day_of_week=_start(1).weekday(), start_time="09:00", end_time="12:00")
        session_type.trainers.add(other)
        client = ClientFactory()
    booking = _book(studio_a, other, session_type, client, _start(1, 9))
    browser = _browser(studio_a, trainer_a)

    assert browser.get(_panel_url(booking)).status_code == 404
    assert browser.post(f"/desk/bookings/{booking.pk}/cancel/").status_code == 404
    assert browser.post(f"/desk/bookings/{booking.pk}/complimentary/").status_code == 404
    assert _reload(studio_a, Booking, booking.pk).status == BookingStatus.CONFIRMED


@pytest.mark.parametrize("path", ["/desk/bookings/new/", "/desk/bookings/clients/search/?q=ab", "/desk/bookings/{id}/"])
def test_a_client_gets_the_403_page_and_a_visitor_is_sent_to_sign_in(studio_a, client_a, schedule_a, path):
    trainer, session_type = schedule_a
    booking = _book(studio_a, trainer, session_type, _client(studio_a), _start(1, 9))
    url = path.format(id=booking.pk)

    refused = _browser(studio_a, client_a).get(url)
    visitor = _browser(studio_a).get(url)

    assert refused.status_code == 403 and "for its staff" in refused.content.decode()
    assert visitor.status_code == 302 and visitor["Location"].startswith("/accounts/login/")


def _client(studio) -> Client:
    with tenant_context(studio):
        return ClientFactory()


def test_a_client_and_a_visitor_cannot_act(studio_a, client_a, schedule_a):
    trainer, session_type = schedule_a
    booking = _book(studio_a, trainer, session_type, _client(studio_a), _start(1, 9))

    assert _browser(studio_a, client_a).post(f"/desk/bookings/{booking.pk}/cancel/").status_code == 403
    assert _browser(studio_a).post(f"/desk/bookings/{booking.pk}/cancel/").status_code == 302
    assert _browser(studio_a, client_a).post("/desk/bookings/new/", {}).status_code == 403
    assert _reload(studio_a, Booking, booking.pk).status == BookingStatus.CONFIRMED


def test_another_studios_booking_id_is_not_found(studio_a, studio_b, owner_a):
    with tenant_context(studio_b):
        from tests.factories import SessionTypeFactory

        trainer_b = TrainerFactory()
        for day in range(7):
            WindowFactory(trainer=trainer_b, day_of_week=day, start_time="09:00", end_time="12:00")
        type_b = SessionTypeFactory(trainers=[trainer_b])
        theirs = booking_create(trainer=trainer_b, client=ClientFactory(), session_type=type_b, start_time=_start(1, 9))
    with tenant_context(studio_a):
        assert not Booking.objects.filter(pk=theirs.pk).exists()
    browser = _browser(studio_a, owner_a)

    assert browser.get(_panel_url(theirs)).status_code == 404
    assert browser.post(f"/desk/bookings/{theirs.pk}/cancel/").status_code == 404
    assert _reload(studio_b, Booking, theirs.pk).status == BookingStatus.CONFIRMED


def test_another_studios_staff_are_sent_to_sign_in(studio_a, studio_b, schedule_a):
    trainer, session_type = schedule_a
    booking = _book(studio_a, trainer, session_type, _client(studio_a), _start(1, 9))
    with tenant_context(studio_b):
        from shared_apps.accounts.models import User

        owner_b = User.objects.get(email="owner@bravo.test")
    browser = _browser(studio_b, owner_b)
    browser.defaults["HTTP_HOST"] = f"{studio_a.slug}.localhost"  # the same cookie, on studio A's host

    for response in (browser.get(_panel_url(booking)), browser.post(f"/desk/bookings/{booking.pk}/cancel/")):
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert _reload(studio_a, Booking, booking.pk).status == BookingStatus.CONFIRMED
