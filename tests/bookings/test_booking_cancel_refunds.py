"""Who cancelled decides the refund: the studio always gives the credit back; a client's late cancellation and a
no-show forfeit it unless the session type is lenient. The mail says whether the credit came back, and the
booking whether the mail went."""

from datetime import timedelta

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from tenant_apps.bookings import services
from tenant_apps.bookings.models import Booking
from tenant_apps.trainers.models import SessionType
from tests.bookings.conftest import ledger, sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def pack(studio_a, booking_client_a):
    with tenant_context(studio_a):
        return sell(booking_client_a, name="Five", sessions_count=5)


def lenient(studio, session_type, **policy) -> None:
    with tenant_context(studio):
        SessionType.objects.filter(pk=session_type.pk).update(**policy)
        session_type.refresh_from_db()


@pytest.mark.parametrize("who", ["owner_a", "manager_a", "trainer_a"])
def test_a_studio_cancellation_at_the_last_minute_returns_the_credit(request, studio_a, make_booking, pack, who):
    actor = request.getfixturevalue(who)
    booking = make_booking(client_package=pack)

    with tenant_context(studio_a):
        cancelled = services.booking_cancel(
            booking=booking, actor=actor, reason="Trainer off sick", now=booking.start_time - timedelta(hours=1)
        )

    assert (cancelled.cancelled_by, cancelled.is_late_cancellation, cancelled.credit_returned) == (
        "studio",
        False,
        True,
    )
    assert ledger(studio_a, pack) == (
        5,
        [("purchase", 5, None, 0), ("booking", -1, booking.pk, 0), ("refund", 1, booking.pk, 0)],
    )


def test_a_cancellation_without_an_actor_is_the_studio_s(studio_a, make_booking, pack):
    booking = make_booking(client_package=pack)

    with tenant_context(studio_a):
        cancelled = services.booking_cancel(booking=booking, actor=None, now=booking.start_time - timedelta(hours=1))

    assert (cancelled.cancelled_by, cancelled.credit_returned) == ("studio", True)
    assert ledger(studio_a, pack)[0] == 5


def test_a_client_s_late_cancellation_forfeits_the_credit_by_default(studio_a, make_booking, pack, client_a):
    booking = make_booking(client_package=pack)

    with tenant_context(studio_a):
        cancelled = services.booking_cancel(
            booking=booking, actor=client_a, now=booking.start_time - timedelta(hours=2)
        )

    assert (cancelled.cancelled_by, cancelled.is_late_cancellation, cancelled.credit_returned) == (
        "client",
        True,
        False,
    )
    assert ledger(studio_a, pack)[0] == 4


def test_a_lenient_session_type_returns_the_credit_on_a_late_cancellation(
    studio_a, schedule_a, make_booking, pack, client_a
):
    lenient(studio_a, schedule_a[1], late_cancel_forfeits_credit=False)
    booking = make_booking(client_package=pack)

    with tenant_context(studio_a):
        cancelled = services.booking_cancel(
            booking=booking, actor=client_a, now=booking.start_time - timedelta(hours=2)
        )

    assert (cancelled.is_late_cancellation, cancelled.credit_returned) == (True, True)
    assert ledger(studio_a, pack)[0] == 5


def test_a_no_show_forfeits_the_credit_unless_the_session_type_is_lenient(
    studio_a, schedule_a, make_booking, pack, trainer_a
):
    strict = make_booking(client_package=pack)
    with tenant_context(studio_a):
        services.booking_no_show(booking=strict, actor=trainer_a, now=strict.start_time + timedelta(minutes=20))
    assert ledger(studio_a, pack)[0] == 4

    lenient(studio_a, schedule_a[1], no_show_forfeits_credit=False)
    forgiven = make_booking(clock="11:00", client_package=pack)
    with tenant_context(studio_a):
        missed = services.booking_no_show(
            booking=forgiven, actor=trainer_a, now=forgiven.start_time + timedelta(minutes=20)
        )

    assert missed.credit_returned is True
    assert ledger(studio_a, pack)[0] == 4  # 5 - strict - forgiven + forgiven's refund
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=strict.pk).credit_returned is False


def test_the_api_derives_who_cancelled_from_the_caller(as_user, client_a, manager_a, make_booking):
    mine = make_booking()
    theirs = make_booking(clock="11:00")

    by_client = as_user(client_a).post(f"/api/bookings/{mine.pk}/cancel/", {"cancelled_by": "studio"})
    by_staff = as_user(manager_a).delete(f"/api/bookings/{theirs.pk}/")

    assert by_client.json()["cancelled_by"] == "client"
    assert by_staff.json()["cancelled_by"] == "studio"


def test_the_mail_says_the_credit_came_back(as_user, manager_a, make_booking, pack, django_capture_on_commit_callbacks):
    booking = make_booking(client_package=pack)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(manager_a).post(f"/api/bookings/{booking.pk}/cancel/", {"reason": "Trainer off sick"})

    assert response.json()["cancellation_sent"] is True
    assert response.json()["credit_returned"] is True
    # The client's mail (the trainer is told too).
    [body] = [message.body for message in mail.outbox if message.to == [booking.client.email]]
    assert "cancelled by Alpha Strength" in body
    assert "back in your Five package (5 left)" in body


def test_the_mail_says_a_late_cancellation_keeps_the_credit(
    studio_a, client_a, make_booking, pack, django_capture_on_commit_callbacks
):
    booking = make_booking(client_package=pack)
    mail.outbox.clear()

    with tenant_context(studio_a), django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=booking, actor=client_a, now=booking.start_time - timedelta(hours=1))

    # The client's mail (the trainer is told too).
    [body] = [message.body for message in mail.outbox if message.to == [booking.client.email]]
    assert "is not returned" in body
    assert "back in your" not in body


def test_an_unpaid_booking_s_cancellation_mail_says_nothing_about_credits(
    as_user, client_a, make_booking, django_capture_on_commit_callbacks
):
    booking = make_booking()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(client_a).post(f"/api/bookings/{booking.pk}/cancel/")

    assert (response.json()["payment_state"], response.json()["cancellation_sent"]) == ("unpaid", True)
    assert "credit" not in mail.outbox[-1].body


def test_an_active_booking_has_sent_no_cancellation(as_user, client_a, make_booking):
    booking = make_booking()

    body = as_user(client_a).get(f"/api/bookings/{booking.pk}/").json()

    assert (body["cancellation_sent"], body["cancelled_by"]) == (False, "")
