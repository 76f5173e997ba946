"""/desk/notifications/: any member of staff chooses which staff notices they get (a new booking, a cancelled
one); a notice turned off is never written to the outbox. Clients, visitors and other studios' staff are refused."""

import pytest
from django.test import Client as Browser
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import User
from tenant_apps.bookings import services as booking_services
from tenant_apps.notifications.models import Notification, StaffNotificationPreference
from tenant_apps.notifications.services import notification_send
from tests.bookings.conftest import at
from tests.conftest import host_of, next_monday
from tests.notifications.conftest import rows

pytestmark = pytest.mark.django_db
PAGE = "/desk/notifications/"
NEW, CANCELLED = "staff_booking_new", "staff_booking_cancelled"


def _browser(studio, user=None, **options) -> Browser:
    browser = Browser(HTTP_HOST=host_of(studio), **options)
    if user is not None:
        with tenant_context(studio):
            browser.force_login(user)
    return browser


def _muted(studio, user) -> list[str] | None:
    with tenant_context(studio):
        preference = StaffNotificationPreference.objects.filter(user=user).first()
        return preference.muted_kinds if preference else None


def _book(studio, schedule, client, *, created_by):
    """A booking of Cleo with Tess through the booking service, as tests/notifications' make_booking makes them
    (a fixture of that package, which this one can't take)."""
    trainer, session_type = schedule
    with tenant_context(studio):
        return booking_services.booking_create(
            trainer=trainer,
            client=client,
            session_type=session_type,
            start_time=at(next_monday(2), "10:00"),
            created_by=created_by,
        )


def _kinds(studio, booking) -> list[str]:
    return [kind for kind, _status, _at in rows(studio, booking)]


@pytest.mark.parametrize("who", ["owner_a", "manager_a", "trainer_a"])
def test_any_member_of_staff_sees_both_notices_on_until_they_turn_one_off(request, studio_a, who):
    html = _browser(studio_a, request.getfixturevalue(who)).get(PAGE).content.decode()

    assert "<h1>My notifications</h1>" in html
    assert html.count("checked") == 2
    assert f'value="{NEW}"' in html and f'value="{CANCELLED}"' in html
    assert "A session of mine is booked" in html and "A session of mine is cancelled" in html


def test_a_trainer_turns_a_notice_off_and_on_again(studio_a, trainer_a):
    browser = _browser(studio_a, trainer_a)

    saved = browser.post(PAGE, {"received_kinds": [CANCELLED]})

    assert saved.status_code == 302 and saved["Location"] == PAGE
    assert _muted(studio_a, trainer_a) == [NEW]
    html = browser.get(PAGE).content.decode()
    assert html.count("checked") == 1 and "Your notification choices were saved." in html

    assert browser.post(PAGE, {"received_kinds": [NEW, CANCELLED]}).status_code == 302
    assert _muted(studio_a, trainer_a) == []


def test_nothing_ticked_turns_every_notice_off(studio_a, trainer_a):
    assert _browser(studio_a, trainer_a).post(PAGE, {}).status_code == 302
    assert _muted(studio_a, trainer_a) == [NEW, CANCELLED]


def test_each_person_sets_only_their_own(studio_a, trainer_a, owner_a):
    _browser(studio_a, trainer_a).post(PAGE, {"received_kinds": [CANCELLED]})

    _browser(studio_a, owner_a).post(PAGE, {"received_kinds": [NEW]})

    assert _muted(studio_a, trainer_a) == [NEW]
    assert _muted(studio_a, owner_a) == [CANCELLED]


def test_an_unknown_kind_is_an_error_on_the_form_and_saves_nothing(studio_a, trainer_a):
    response = _browser(studio_a, trainer_a).post(PAGE, {"received_kinds": [NEW, "reminder_1h"]})

    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert _muted(studio_a, trainer_a) is None


def test_the_form_needs_its_csrf_token(studio_a, trainer_a):
    response = _browser(studio_a, trainer_a, enforce_csrf_checks=True).post(PAGE, {"received_kinds": []})

    assert response.status_code == 403
    assert _muted(studio_a, trainer_a) is None


def test_clients_visitors_and_other_studios_staff_are_refused(studio_a, studio_b, client_a):
    with tenant_context(studio_b):
        owner_b = User.objects.get(email="owner@bravo.test")
    stranger = _browser(studio_b, owner_b)
    stranger.defaults["HTTP_HOST"] = host_of(studio_a)  # the same cookie, on studio A's host

    by_client = _browser(studio_a, client_a).post(PAGE, {})
    by_visitor = _browser(studio_a).get(PAGE)
    by_stranger = stranger.post(PAGE, {})

    assert by_client.status_code == 403
    assert by_visitor.status_code == by_stranger.status_code == 302
    assert "/accounts/login/" in by_visitor["Location"] and "/accounts/login/" in by_stranger["Location"]
    assert _muted(studio_a, client_a) is None
    assert _muted(studio_b, owner_b) is None


# -- what the outbox does with it -----------------------------------------------------------------------------


def test_a_notice_turned_off_is_not_sent_and_the_other_still_is(
    studio_a, schedule_a, booking_client_a, trainer_a, client_a, owner_a
):
    _browser(studio_a, trainer_a).post(PAGE, {"received_kinds": [CANCELLED]})

    booking = _book(studio_a, schedule_a, booking_client_a, created_by=client_a)
    with tenant_context(studio_a):
        booking_services.booking_cancel(booking=booking, actor=owner_a)
        notices = Notification.objects.filter(booking=booking, staff_user=trainer_a)
        outcomes = {notice.kind: notification_send(notification_id=notice.pk) for notice in notices}

    # Read when the notice goes: the one turned off is suppressed, the other sent.
    assert outcomes == {NEW: "suppressed", CANCELLED: "sent"}
    assert "booking_confirmed" in _kinds(studio_a, booking)  # the client's own messages are not the trainer's choice


def test_a_notice_turned_off_after_it_was_written_is_not_sent(
    studio_a, schedule_a, booking_client_a, trainer_a, client_a
):
    booking = _book(studio_a, schedule_a, booking_client_a, created_by=client_a)
    _browser(studio_a, trainer_a).post(PAGE, {"received_kinds": [CANCELLED]})

    with tenant_context(studio_a):
        notice = Notification.objects.get(booking=booking, staff_user=trainer_a, kind=NEW)
        assert notification_send(notification_id=notice.pk) == "suppressed"


def test_with_nothing_turned_off_the_trainer_is_told_of_both(studio_a, schedule_a, booking_client_a, client_a, owner_a):
    booking = _book(studio_a, schedule_a, booking_client_a, created_by=client_a)
    with tenant_context(studio_a):
        booking_services.booking_cancel(booking=booking, actor=owner_a)

    kinds = _kinds(studio_a, booking)
    assert NEW in kinds and CANCELLED in kinds
