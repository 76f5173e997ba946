"""GET /calendar/<token>.ics, a trainer's private calendar feed (no sign-in: the token is the credential), and the
desk's buttons that make, replace or turn off its URL: owner and managers for any trainer, a trainer their own."""

import re
from datetime import timedelta
from decimal import Decimal

import icalendar
import pytest
from django.db import connection
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User
from shared_apps.core.tenancy import site_url
from tenant_apps.bookings import services as booking_services
from tenant_apps.bookings.models import Booking, BookingEvent
from tenant_apps.notifications import feed
from tenant_apps.notifications.calendar import booking_calendar
from tenant_apps.trainers.models import Trainer
from tests.bookings.conftest import at
from tests.conftest import host_of, make_user, next_monday
from tests.factories import ClientFactory, SessionTypeFactory, TrainerFactory

pytestmark = pytest.mark.django_db


def _browser(studio, user=None, **options) -> Browser:
    browser = Browser(HTTP_HOST=host_of(studio), **options)
    if user is not None:
        with tenant_context(studio):
            browser.force_login(user)
    return browser


def _path(token: str) -> str:
    return f"/calendar/{token}.ics"


def _token(studio, trainer) -> str:
    with tenant_context(studio):
        return Trainer.objects.get(pk=trainer.pk).calendar_feed_token


def _rotate(studio, trainer) -> str:
    with tenant_context(studio):
        return feed.feed_token_rotate(trainer)


def _events(response) -> list:
    return icalendar.Calendar.from_ical(response.content).walk("VEVENT")


def _past_booking(studio, trainer, session_type, client, *, days_ago: int, status: str = "completed") -> Booking:
    """A session that took place (the booking service books only what is ahead), with its history."""
    with tenant_context(studio):
        start = (timezone.now() - timedelta(days=days_ago)).replace(second=0, microsecond=0)
        end = start + timedelta(hours=1)
        booking = Booking.objects.create(
            trainer=trainer, client=client, session_type=session_type, start_time=start, end_time=end,
            blocked_from=start, blocked_until=end, status=status, price=Decimal("40"), currency="GBP",
        )  # fmt: skip
        BookingEvent.objects.create(booking=booking, kind="created", to_status="confirmed")
        BookingEvent.objects.create(booking=booking, kind=status, from_status="confirmed", to_status=status)
        return booking


@pytest.fixture
def cleo(studio_a, booking_client_a):
    """Cleo with a last name, a phone and an email the feed must not carry."""
    with tenant_context(studio_a):
        booking_client_a.last_name = "Sparrowhawk"
        booking_client_a.phone = "+447911123456"
        booking_client_a.save(update_fields=["last_name", "phone"])
    return booking_client_a


@pytest.fixture
def other_trainer(studio_a):
    with tenant_context(studio_a):
        user = make_user(studio_a, role=Role.TRAINER, email="otto@alpha.test")
        return TrainerFactory(user=user, display_name="Otto Other", timezone="Europe/London")


# -- the feed ------------------------------------------------------------------------------------------------


def test_the_feed_lists_the_trainers_sessions_with_the_invitations_uid_and_no_contact_data(
    studio_a, schedule_a, make_booking, cleo, owner_a
):
    trainer, session_type = schedule_a
    booking = make_booking()
    moved = make_booking(clock="11:00")
    with tenant_context(studio_a):
        moved = booking_services.booking_reschedule(
            booking=moved, start_time=at(next_monday(2) + timedelta(days=1), "09:00"), actor=owner_a
        )
        invitation = icalendar.Calendar.from_ical(booking_calendar(booking=moved, studio=studio_a))
        past = _past_booking(studio_a, trainer, session_type, cleo, days_ago=3)
    token = _rotate(studio_a, trainer)

    response = _browser(studio_a).get(_path(token))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["X-WR-CALNAME"]) == "Alpha Strength — Tess Trainer"
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    domain = "alpha.localhost"
    assert set(events) == {f"booking-{b.pk}@{domain}" for b in (booking, moved, past)}
    assert str(events[f"booking-{booking.pk}@{domain}"]["SUMMARY"]) == "PT 60 — Cleo"
    # The feed and the client's invitation are one entry to a calendar: the same UID and SEQUENCE.
    moved_event = events[str(invitation.walk("VEVENT")[0]["UID"])]
    assert int(moved_event["SEQUENCE"]) == int(invitation.walk("VEVENT")[0]["SEQUENCE"]) == 1
    assert int(events[f"booking-{booking.pk}@{domain}"]["SEQUENCE"]) == 0
    assert str(events[f"booking-{past.pk}@{domain}"]["STATUS"]) == "CONFIRMED"
    assert events[f"booking-{booking.pk}@{domain}"]["LAST-MODIFIED"].dt == booking.updated.replace(microsecond=0)
    text = response.content.decode()
    for secret in (cleo.email, "Sparrowhawk", "+447911123456", "mailto:", "ATTENDEE"):
        assert secret not in text


def test_times_are_in_utc_and_a_summer_session_is_an_hour_off_its_london_clock(studio_a, schedule_a, cleo):
    trainer, session_type = schedule_a
    # One session in winter (GMT) and one in summer (BST), both at 10:00 in London, both within the feed's span.
    today = timezone.now().date()
    days = [today + timedelta(days=n) for n in range(7, 175)]
    winter = next(day for day in days if at(day, "10:00").utcoffset() == timedelta(0))
    summer = next(day for day in days if at(day, "10:00").utcoffset() == timedelta(hours=1))
    with tenant_context(studio_a):
        for day in (winter, summer):
            start = at(day, "10:00")
            Booking.objects.create(
                trainer=trainer, client=cleo, session_type=session_type, start_time=start,
                end_time=start + timedelta(hours=1), blocked_from=start, blocked_until=start + timedelta(hours=1),
                price=Decimal("40"), currency="GBP",
            )  # fmt: skip

    text = _browser(studio_a).get(_path(_rotate(studio_a, trainer))).content.decode()

    assert f"DTSTART:{winter:%Y%m%d}T100000Z" in text and f"DTEND:{winter:%Y%m%d}T110000Z" in text
    assert f"DTSTART:{summer:%Y%m%d}T090000Z" in text
    assert "TZID" not in text


def test_a_pending_request_is_tentative_and_a_cancelled_booking_leaves_the_feed(
    studio_a, schedule_a, make_booking, owner_a
):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        session_type.requires_confirmation = True
        session_type.save(update_fields=["requires_confirmation"])
    requested = make_booking()
    cancelled = make_booking(clock="11:00")
    with tenant_context(studio_a):
        booking_services.booking_cancel(booking=cancelled, actor=owner_a, reason="Studio closed")
    token = _rotate(studio_a, trainer)

    events = _events(_browser(studio_a).get(_path(token)))

    assert [(str(event["UID"]), str(event["STATUS"])) for event in events] == [
        (f"booking-{requested.pk}@alpha.localhost", "TENTATIVE")
    ]


def test_the_feed_spans_30_days_back_and_180_ahead_and_only_this_trainers_sessions(
    studio_a, schedule_a, cleo, other_trainer
):
    trainer, session_type = schedule_a
    inside = _past_booking(studio_a, trainer, session_type, cleo, days_ago=29)
    _past_booking(studio_a, trainer, session_type, cleo, days_ago=31)
    _past_booking(studio_a, trainer, session_type, cleo, days_ago=-181, status="confirmed")
    _past_booking(studio_a, other_trainer, session_type, cleo, days_ago=2)
    _past_booking(studio_a, trainer, session_type, cleo, days_ago=5, status="no_show")

    events = _events(_browser(studio_a).get(_path(_rotate(studio_a, trainer))))

    assert [str(event["UID"]) for event in events] == [f"booking-{inside.pk}@alpha.localhost"]


def test_a_feed_with_many_sessions_takes_as_many_queries_as_one_with_one(
    studio_a, schedule_a, cleo, django_assert_max_num_queries
):
    trainer, session_type = schedule_a
    token = _rotate(studio_a, trainer)
    _past_booking(studio_a, trainer, session_type, cleo, days_ago=1)
    browser = _browser(studio_a)
    browser.get(_path(token))  # the host → studio lookup is cached from here on
    with CaptureQueriesContext(connection) as one:
        assert len(_events(browser.get(_path(token)))) == 1
    with tenant_context(studio_a):
        others = [SessionTypeFactory(name=f"Type {n}", trainers=[trainer]) for n in range(3)]
        clients = [ClientFactory() for _ in range(5)]
    for n in range(2, 42):
        _past_booking(studio_a, trainer, others[n % 3], clients[n % 5], days_ago=-n)

    with django_assert_max_num_queries(len(one.captured_queries)):
        response = browser.get(_path(token))

    assert len(_events(response)) == 41
    assert len(one.captured_queries) <= 6


def test_unknown_revoked_and_replaced_tokens_get_the_same_404(studio_a, schedule_a):
    trainer, _ = schedule_a
    browser = _browser(studio_a)
    first = _rotate(studio_a, trainer)
    assert browser.get(_path(first)).status_code == 200

    second = _rotate(studio_a, trainer)
    replaced = browser.get(_path(first))
    with tenant_context(studio_a):
        feed.feed_token_revoke(trainer)
    revoked = browser.get(_path(second))
    unknown = browser.get(_path("not-a-token-of-anyone"))
    blank = browser.get("/calendar/.ics")

    assert second != first
    assert [r.status_code for r in (replaced, revoked, unknown, blank)] == [404, 404, 404, 404]
    pages = {re.sub(r'nonce="[^"]*"', "", r.content.decode()) for r in (replaced, revoked, unknown, blank)}
    assert len(pages) == 1  # the same page for each (but the CSP nonce, new on every response)
    assert _token(studio_a, trainer) == ""


def test_a_deactivated_trainers_feed_is_gone(studio_a, schedule_a):
    trainer, _ = schedule_a
    token = _rotate(studio_a, trainer)
    with tenant_context(studio_a):
        Trainer.objects.filter(pk=trainer.pk).update(is_active=False)

    assert _browser(studio_a).get(_path(token)).status_code == 404


def test_another_studios_token_means_nothing_on_this_host(studio_a, studio_b):
    with tenant_context(studio_b):
        user = make_user(studio_b, role=Role.TRAINER, email="bea@bravo.test")
        bea = TrainerFactory(user=user, display_name="Bea Bravo")
    token = _rotate(studio_b, bea)

    assert _browser(studio_b).get(_path(token)).status_code == 200
    assert _browser(studio_a).get(_path(token)).status_code == 404


def test_the_feed_answers_get_only(studio_a, schedule_a):
    trainer, _ = schedule_a
    token = _rotate(studio_a, trainer)

    assert _browser(studio_a).post(_path(token)).status_code == 405
    assert _token(studio_a, trainer) == token


# -- the desk: showing, replacing and turning off the URL ----------------------------------------------------


def test_a_trainer_sees_their_feed_url_with_copy_and_subscribe_links(studio_a, schedule_a, trainer_a):
    trainer, _ = schedule_a
    token = _rotate(studio_a, trainer)
    with tenant_context(studio_a):
        url = site_url(_path(token))

    html = _browser(studio_a, trainer_a).get("/desk/hours/profile/").content.decode()

    assert url.startswith("http") and "://alpha.localhost" in url
    assert f'id="calendar-feed-url" value="{url}" readonly' in html
    assert 'data-copy-from="calendar-feed-url"' in html
    assert f'href="webcal://{url.split("://", 1)[1]}"' in html
    assert "From URL" in html


def test_a_trainer_without_a_feed_is_offered_one(studio_a, schedule_a, trainer_a):
    html = _browser(studio_a, trainer_a).get("/desk/hours/profile/").content.decode()

    assert "There is no feed address now." in html and "calendar-feed-url" not in html
    assert "Make a feed address" in html


def _change(studio, user, trainer, action: str, **options):
    return _browser(studio, user, **options).post(f"/desk/trainers/{trainer.pk}/calendar-feed/", {"action": action})


@pytest.mark.parametrize("who", ["owner_a", "manager_a", "trainer_a"])
def test_owner_managers_and_the_trainer_make_replace_and_revoke_the_url(request, studio_a, schedule_a, who):
    trainer, _ = schedule_a
    user = request.getfixturevalue(who)

    made = _change(studio_a, user, trainer, "rotate")
    first = _token(studio_a, trainer)
    replaced = _change(studio_a, user, trainer, "rotate")
    second = _token(studio_a, trainer)

    assert made.status_code == replaced.status_code == 302
    own = who == "trainer_a"
    target = "/desk/hours/profile/" if own else f"/desk/trainers/{trainer.pk}/profile/"
    assert made["Location"] == f"{target}#calendar-feed"
    assert first and second and first != second and len(second) >= 40
    assert _browser(studio_a).get(_path(first)).status_code == 404
    assert _browser(studio_a).get(_path(second)).status_code == 200

    assert _change(studio_a, user, trainer, "revoke").status_code == 302
    assert _token(studio_a, trainer) == ""
    assert _browser(studio_a).get(_path(second)).status_code == 404


def test_a_trainer_may_not_touch_another_trainers_feed(studio_a, schedule_a, other_trainer):
    trainer, _ = schedule_a
    token = _rotate(studio_a, trainer)
    with tenant_context(studio_a):
        otto = User.objects.get(email="otto@alpha.test")

    responses = [_change(studio_a, otto, trainer, action) for action in ("rotate", "revoke")]
    page = _browser(studio_a, otto).get(f"/desk/trainers/{trainer.pk}/profile/")

    assert [r.status_code for r in responses] == [403, 403]
    assert page.status_code == 403 and token not in page.content.decode()
    assert _token(studio_a, trainer) == token


def test_clients_visitors_and_other_studios_staff_are_refused(studio_a, studio_b, schedule_a, client_a):
    trainer, _ = schedule_a
    token = _rotate(studio_a, trainer)
    with tenant_context(studio_b):
        owner_b = User.objects.get(email="owner@bravo.test")
    stranger = _browser(studio_b, owner_b)
    stranger.defaults["HTTP_HOST"] = host_of(studio_a)  # the same cookie, on studio A's host

    by_client = _change(studio_a, client_a, trainer, "revoke")
    by_visitor = _browser(studio_a).post(f"/desk/trainers/{trainer.pk}/calendar-feed/", {"action": "revoke"})
    by_stranger = stranger.post(f"/desk/trainers/{trainer.pk}/calendar-feed/", {"action": "revoke"})

    assert by_client.status_code == 403
    assert by_visitor.status_code == by_stranger.status_code == 302
    assert "/accounts/login/" in by_visitor["Location"] and "/accounts/login/" in by_stranger["Location"]
    assert _token(studio_a, trainer) == token


def test_a_trainer_of_another_studio_is_not_found_here(studio_a, studio_b, owner_a):
    with tenant_context(studio_b):
        user = make_user(studio_b, role=Role.TRAINER, email="bea@bravo.test")
        bea = TrainerFactory(user=user, display_name="Bea Bravo")
    token = _rotate(studio_b, bea)
    with tenant_context(studio_a):
        assert not Trainer.objects.exists()  # so Bea's id can't be a trainer of studio A's by chance

    response = _change(studio_a, owner_a, bea, "revoke")

    assert response.status_code == 404
    assert _token(studio_b, bea) == token


def test_the_buttons_need_the_forms_csrf_token_and_a_known_action(studio_a, schedule_a, owner_a):
    trainer, _ = schedule_a
    token = _rotate(studio_a, trainer)

    forged = _change(studio_a, owner_a, trainer, "revoke", enforce_csrf_checks=True)
    unknown = _change(studio_a, owner_a, trainer, "delete-everything")

    assert forged.status_code == 403 and unknown.status_code == 400
    assert _token(studio_a, trainer) == token


def test_the_owner_sees_and_manages_any_trainers_feed_url(studio_a, schedule_a, owner_a):
    trainer, _ = schedule_a
    token = _rotate(studio_a, trainer)

    html = _browser(studio_a, owner_a).get(f"/desk/trainers/{trainer.pk}/profile/").content.decode()

    assert f"/calendar/{token}.ics" in html and "Turn the feed off" in html
