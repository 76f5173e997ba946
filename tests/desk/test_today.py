"""The front desk's day: the sessions in order with who owes what, and check-in / no-show / undo through the
booking services, for the staff who may see each session."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role
from tenant_apps.bookings.models import Booking, BookingEvent, BookingStatus, PaymentState
from tests.conftest import make_user
from tests.factories import ClientFactory, SessionTypeFactory, TrainerFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def _browser(studio, user=None) -> Client:
    browser = Client(HTTP_HOST=f"{studio.slug}.localhost")
    if user is not None:
        with tenant_context(studio):
            browser.force_login(user)
    return browser


def _booking(trainer, client, session_type, start: datetime, **fields) -> Booking:
    """A booking row as the day holds it, without the booking rules' checks (a session already started)."""
    end = start + timedelta(minutes=60)
    fields.setdefault("status", BookingStatus.CONFIRMED)
    return Booking.objects.create(
        trainer=trainer,
        client=client,
        session_type=session_type,
        start_time=start,
        end_time=end,
        blocked_from=start,
        blocked_until=end,
        price=Decimal("40.00"),
        currency="GBP",
        **fields,
    )


@pytest.fixture
def day_a(studio_a, trainer_a):
    """Studio A's day: Tess's session that started 30 minutes ago (Cleo, unpaid), one of hers in two hours
    (Dora, complimentary), and Colin's that started an hour ago (Eve, paid)."""
    now = timezone.now()
    with tenant_context(studio_a):
        tess = TrainerFactory(user=trainer_a, display_name="Tess Trainer")
        colin = TrainerFactory(
            user=make_user(studio_a, role=Role.TRAINER, email="colin@alpha.test"), display_name="Colin Coach"
        )
        session_type = SessionTypeFactory(name="PT 60", trainers=[tess, colin])
        started = _booking(
            tess, ClientFactory(first_name="Cleo", last_name="Client"), session_type, now - timedelta(minutes=30)
        )
        later = _booking(
            tess,
            ClientFactory(first_name="Dora", last_name="Later"),
            session_type,
            now + timedelta(hours=2),
            payment_state=PaymentState.COMPLIMENTARY,
        )
        colins = _booking(
            colin,
            ClientFactory(first_name="Eve", last_name="Early"),
            session_type,
            now - timedelta(hours=1),
            payment_state=PaymentState.PAID,
            amount_paid=Decimal("40.00"),
            payment_currency="GBP",
            payment_method="card",
            payment_recorded_at=now,
        )
    # The day the sessions fall on in the studio's zone (a run just after midnight would otherwise miss some).
    day = started.start_time.astimezone(LONDON).date().isoformat()
    return {"started": started, "later": later, "colins": colins, "day": day}


def _status(studio, booking) -> str:
    with tenant_context(studio):
        return Booking.objects.get(pk=booking.pk).status


def _today(studio, user, day) -> str:
    response = _browser(studio, user).get(f"/desk/today/?date={day}")
    assert response.status_code == 200
    return response.content.decode()


# -- the list ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner_a", "manager_a"])
def test_owner_and_managers_see_every_trainers_sessions_in_time_order(studio_a, day_a, who, request):
    page = _today(studio_a, request.getfixturevalue(who), day_a["day"])

    assert "<h1>Today</h1>" in page
    # Dora's session is two hours away: after 22:00 in London it is tomorrow's, on another page.
    names = ["Eve Early", "Cleo Client"]
    if day_a["later"].start_time.astimezone(LONDON).date().isoformat() == day_a["day"]:
        names.append("Dora Later")
    order = [page.index(name) for name in names]
    assert order == sorted(order)
    assert "Colin Coach" in page and "Tess Trainer" in page
    assert f'href="/desk/bookings/{day_a["started"].pk}/"' in page


def test_a_trainer_sees_only_their_own_sessions(studio_a, day_a, trainer_a):
    page = _today(studio_a, trainer_a, day_a["day"])

    assert "Cleo Client" in page
    assert "Eve Early" not in page


def test_who_owes_payment_is_said_in_words(studio_a, day_a, owner_a):
    page = _today(studio_a, owner_a, day_a["day"])

    cleo = page[page.index("Cleo Client") :]
    assert "Owes £40.00" in cleo[: cleo.index("</li>")]
    eve = page[page.index("Eve Early") :]
    assert "Paid £40.00 (card)" in eve[: eve.index("</li>")]
    assert page.count("Owes ") == 1


def test_a_credit_paid_session_names_its_package(studio_a, trainer_a, owner_a):
    from tests.bookings.conftest import sell

    with tenant_context(studio_a):
        tess = TrainerFactory(user=trainer_a, display_name="Tess Trainer")
        client = ClientFactory(first_name="Pat")
        client_package = sell(client, name="Ten pack")
        booking = _booking(
            tess,
            client,
            SessionTypeFactory(trainers=[tess]),
            timezone.now() - timedelta(minutes=5),
            payment_state=PaymentState.CREDIT,
            client_package=client_package,
        )
    page = _today(studio_a, owner_a, booking.start_time.astimezone(LONDON).date().isoformat())

    assert "Paid with a credit of Ten pack" in page
    assert "Owes" not in page


def test_another_day_is_shown_by_its_date_and_a_bad_date_is_a_400(studio_a, day_a, owner_a):
    tomorrow = (datetime.fromisoformat(day_a["day"]) + timedelta(days=1)).date().isoformat()
    page = _today(studio_a, owner_a, tomorrow)
    assert "Eve Early" not in page and "Cleo Client" not in page

    response = _browser(studio_a, owner_a).get("/desk/today/?date=31-12-2026")
    assert response.status_code == 400
    assert "Enter a valid date" in response.content.decode()


def test_buttons_show_only_while_the_session_can_take_them(studio_a, day_a, owner_a):
    page = _today(studio_a, owner_a, day_a["day"])

    assert f'action="/desk/today/{day_a["started"].pk}/check-in/"' in page
    assert f'action="/desk/today/{day_a["started"].pk}/no-show/"' in page
    # Not started yet: the service would refuse it.
    assert f"/desk/today/{day_a['later'].pk}/check-in/" not in page


# -- who may open it -----------------------------------------------------------------------------------------


def test_a_visitor_is_sent_to_sign_in_and_a_client_refused(studio_a, day_a, client_a):
    response = _browser(studio_a).post(f"/desk/today/{day_a['started'].pk}/check-in/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    response = _browser(studio_a, client_a).post(f"/desk/today/{day_a['started'].pk}/check-in/")
    assert response.status_code == 403
    assert _status(studio_a, day_a["started"]) == BookingStatus.CONFIRMED


def test_another_studios_staff_are_strangers_here(studio_a, studio_b, day_a):
    with tenant_context(studio_b):
        from shared_apps.accounts.models import User

        owner_b = User.objects.get(email="owner@bravo.test")
    browser = _browser(studio_b, owner_b)
    browser.defaults["HTTP_HOST"] = f"{studio_a.slug}.localhost"

    response = browser.post(f"/desk/today/{day_a['started'].pk}/check-in/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert _status(studio_a, day_a["started"]) == BookingStatus.CONFIRMED


def test_another_studios_booking_id_is_a_404(studio_a, studio_b, day_a):
    with tenant_context(studio_b):
        from shared_apps.accounts.models import User

        owner_b = User.objects.get(email="owner@bravo.test")
    # Studio B has no booking with that id, whatever studio A has.
    response = _browser(studio_b, owner_b).post(f"/desk/today/{day_a['started'].pk}/check-in/")

    assert response.status_code == 404
    assert _status(studio_a, day_a["started"]) == BookingStatus.CONFIRMED


def test_a_trainer_cant_check_in_another_trainers_session(studio_a, day_a, trainer_a):
    response = _browser(studio_a, trainer_a).post(f"/desk/today/{day_a['colins'].pk}/check-in/")

    assert response.status_code == 404
    assert _status(studio_a, day_a["colins"]) == BookingStatus.CONFIRMED


# -- check-in, no-show, undo ----------------------------------------------------------------------------------


def test_check_in_completes_the_session_and_goes_back_to_the_day(studio_a, day_a, manager_a):
    browser = _browser(studio_a, manager_a)

    response = browser.post(f"/desk/today/{day_a['started'].pk}/check-in/", {"date": day_a["day"]}, follow=True)

    assert response.redirect_chain[0][0] == f"/desk/today/?date={day_a['day']}"
    assert "Cleo Client is checked in." in response.content.decode()
    assert _status(studio_a, day_a["started"]) == BookingStatus.COMPLETED
    # Completed now: the undo button replaces check-in.
    assert f'action="/desk/today/{day_a["started"].pk}/undo/"' in response.content.decode()


def test_a_trainer_marks_their_own_no_show_and_undoes_it(studio_a, day_a, trainer_a):
    browser = _browser(studio_a, trainer_a)

    browser.post(f"/desk/today/{day_a['started'].pk}/no-show/")
    assert _status(studio_a, day_a["started"]) == BookingStatus.NO_SHOW

    response = browser.post(f"/desk/today/{day_a['started'].pk}/undo/", follow=True)
    assert "Undone: Cleo Client is booked again." in response.content.decode()
    assert _status(studio_a, day_a["started"]) == BookingStatus.CONFIRMED


def _marked(booking: Booking, status: str, at: datetime) -> None:
    """``booking`` marked ``status`` at ``at``, as its history says (the undo deadline counts from there)."""
    Booking.objects.filter(pk=booking.pk).update(status=status)
    event = BookingEvent.objects.create(booking=booking, kind=status, from_status="confirmed", to_status=status)
    BookingEvent.objects.filter(pk=event.pk).update(created=at)


def test_undo_shows_only_until_booking_undo_s_deadline(studio_a, day_a, owner_a, settings):
    """The service's deadline (booking_undo_deadline): the session's end or a later marking, plus the days."""
    settings.BOOKING_UNDO_DAYS = 3
    # 10:00 in London five days ago: both sessions on that day, whatever the time now.
    old_day = (timezone.now() - timedelta(days=5)).astimezone(LONDON).replace(hour=10, minute=0, second=0)
    with tenant_context(studio_a):
        tess, cleo, session_type = day_a["started"].trainer, day_a["started"].client, day_a["started"].session_type
        on_time = _booking(tess, cleo, session_type, old_day)
        recorded_late = _booking(tess, cleo, session_type, old_day + timedelta(hours=2))
        _marked(on_time, BookingStatus.COMPLETED, at=old_day + timedelta(hours=1))
        _marked(recorded_late, BookingStatus.NO_SHOW, at=timezone.now() - timedelta(days=1))

    page = _today(studio_a, owner_a, old_day.astimezone(LONDON).date().isoformat())

    assert f'action="/desk/today/{on_time.pk}/undo/"' not in page
    assert f'action="/desk/today/{recorded_late.pk}/undo/"' in page


def test_the_day_takes_the_same_queries_however_many_sessions_were_marked(studio_a, day_a, owner_a):
    browser = _browser(studio_a, owner_a)
    path = f"/desk/today/?date={day_a['day']}"

    def queries() -> int:
        assert browser.get(path).status_code == 200  # warm: the session, the studio's host
        with CaptureQueriesContext(connection) as captured:
            assert browser.get(path).status_code == 200
        return len(captured)

    before = queries()
    with tenant_context(studio_a):
        started = day_a["started"]
        for _ in range(4):
            # A trainer each: one trainer's sessions can't overlap.
            booking = _booking(TrainerFactory(), ClientFactory(), started.session_type, started.start_time)
            _marked(booking, BookingStatus.COMPLETED, at=timezone.now())

    assert queries() == before


def test_a_refusal_of_the_service_is_a_message_not_an_error_page(studio_a, day_a, owner_a):
    response = _browser(studio_a, owner_a).post(f"/desk/today/{day_a['later'].pk}/check-in/", follow=True)

    assert response.status_code == 200
    assert 'class="message-error"' in response.content.decode()
    assert _status(studio_a, day_a["later"]) == BookingStatus.CONFIRMED


def test_htmx_gets_the_row_back_saying_what_happened(studio_a, day_a, owner_a):
    browser = _browser(studio_a, owner_a)

    response = browser.post(f"/desk/today/{day_a['started'].pk}/no-show/", HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert response.status_code == 200
    assert page.startswith(f'<li class="today-item" id="booking-{day_a["started"].pk}"')
    assert "<html" not in page
    assert "marked as a no-show" in page and "No-show" in page
    assert "HX-Request" in response["Vary"]
    assert _status(studio_a, day_a["started"]) == BookingStatus.NO_SHOW

    refused = browser.post(f"/desk/today/{day_a['started'].pk}/check-in/", HTTP_HX_REQUEST="true")
    assert refused.status_code == 200
    assert 'role="alert"' in refused.content.decode()
    assert _status(studio_a, day_a["started"]) == BookingStatus.NO_SHOW
