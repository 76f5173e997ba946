"""What was sent, in the desk: a client's messages on their page (and a warning when their address bounced, gone
once it is changed), a booking's messages on its panel (the reminders still due among them); a trainer sees the
messages about their own sessions only, as in the API; another studio's never show; the queries don't grow with
the rows."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role
from tenant_apps.bookings import services as booking_services
from tenant_apps.clients import services as client_services
from tenant_apps.clients.models import Client
from tenant_apps.notifications.models import Notification
from tenant_apps.notifications.services import notification_send
from tests.bookings.conftest import at
from tests.conftest import make_user, next_monday
from tests.factories import ClientFactory, SessionTypeFactory, TrainerFactory, WindowFactory
from tests.notifications import conftest as outbox_fixtures

pytestmark = pytest.mark.django_db
# Cleo's bookings with Tess through the booking service, with their real outbox rows.
make_booking = outbox_fixtures.make_booking
BOUNCED = "Mail to cleo@example.com bounced on 3 November 2026: 550 5.1.1 mailbox unknown."


def _browser(studio, user=None) -> Browser:
    browser = Browser(HTTP_HOST=f"{studio.slug}.localhost")
    if user is not None:
        with tenant_context(studio):
            browser.force_login(user)
    return browser


def _page(browser, url: str) -> str:
    response = browser.get(url)
    assert response.status_code == 200, response.content.decode()[:500]
    return response.content.decode()


def _messages_section(html: str, heading: str) -> str:
    """The part of the page from the messages heading to the next section's heading."""
    start = html.index(heading)
    return html[start : html.index("<h2", start + len(heading))]


def _bounce(studio, client) -> None:
    with tenant_context(studio):
        Client.objects.filter(pk=client.pk).update(
            email="cleo@example.com",
            email_bounced_at=timezone.make_aware(timezone.datetime(2026, 11, 3, 14, 0)),
            email_bounce_reason="550 5.1.1 mailbox unknown",
        )


@pytest.fixture
def colins_booking_of_cleo(studio_a, schedule_a, booking_client_a, owner_a):
    """Colin, a second trainer of studio A, with a session of Cleo's the owner booked (her confirmation, Colin's
    notice, the reminders)."""
    _tess, session_type = schedule_a
    with tenant_context(studio_a):
        colin = TrainerFactory(
            user=make_user(studio_a, role=Role.TRAINER, email="colin@alpha.test"), display_name="Colin Coach"
        )
        for day in range(7):
            WindowFactory(trainer=colin, day_of_week=day, start_time="09:00", end_time="12:00")
        session_type.trainers.add(colin)
        return booking_services.booking_create(
            trainer=colin,
            client=booking_client_a,
            session_type=session_type,
            start_time=at(next_monday(3), "11:00"),
            created_by=owner_a,
        )


# -- the client's page ----------------------------------------------------------------------------------------


def test_the_client_page_lists_their_messages_newest_first_with_their_status(
    studio_a, owner_a, make_booking, client_a, booking_client_a
):
    booking = make_booking(created_by=client_a)
    with tenant_context(studio_a):
        confirmation = Notification.objects.get(booking=booking, kind="booking_confirmed")
        assert notification_send(notification_id=confirmation.pk) == "sent"
        Notification.objects.filter(pk=confirmation.pk).update(status="delivered", delivered_at=timezone.now())
        reminder = Notification.objects.get(booking=booking, kind="reminder_24h")

    html = _page(_browser(studio_a, owner_a), f"/desk/clients/{booking_client_a.pk}/")
    messages = _messages_section(html, 'id="messages-heading"')

    # The reminders (written after the confirmation) first; the trainer's notice isn't a message to the client.
    assert messages.index("Reminder, 1 hour before") < messages.index("Booking confirmed")
    assert "New booking (staff)" not in messages
    assert '<span class="outbox-status outbox-status-delivered">Delivered</span>' in messages
    assert messages.count('<span class="outbox-status outbox-status-pending">Pending</span>') == 2
    assert f'Due <time datetime="{reminder.send_after.isoformat()}">' in messages
    assert f'href="/desk/bookings/{booking.pk}/"' in messages


def test_the_client_page_shows_the_latest_twenty_messages(studio_a, owner_a, make_booking, booking_client_a):
    booking = make_booking()
    with tenant_context(studio_a):
        Notification.objects.bulk_create(
            Notification(
                client=booking_client_a, booking=booking, kind="booking_rescheduled", send_after=timezone.now()
            )
            for _ in range(25)
        )

    messages = _messages_section(
        _page(_browser(studio_a, owner_a), f"/desk/clients/{booking_client_a.pk}/"), 'id="messages-heading"'
    )

    assert messages.count("<tr>") == 1 + 20  # the head and 20 rows
    assert "Booking rescheduled" in messages and "The latest 20 messages are shown." in messages


def test_a_bounced_address_is_flagged_by_the_clients_email(
    studio_a, owner_a, trainer_a, make_booking, booking_client_a
):
    make_booking()
    before = _page(_browser(studio_a, owner_a), f"/desk/clients/{booking_client_a.pk}/")
    _bounce(studio_a, booking_client_a)

    for user in (owner_a, trainer_a):  # the form (owner) and the facts (trainer)
        html = _page(_browser(studio_a, user), f"/desk/clients/{booking_client_a.pk}/")
        profile = html[html.index('id="profile-heading"') : html.index('id="packages-heading"')]
        assert BOUNCED in profile
        assert "No mail goes to it until the address is changed." in profile
    assert "bounced" not in before


def test_changing_the_address_on_the_client_page_clears_the_bounce(studio_a, owner_a, make_booking, booking_client_a):
    make_booking()
    _bounce(studio_a, booking_client_a)
    browser = _browser(studio_a, owner_a)
    form = {"first_name": "Cleo", "email": "cleo.new@example.com", "is_active": "on"}

    response = browser.post(f"/desk/clients/{booking_client_a.pk}/", form)

    assert response.status_code == 302, response.content.decode()[:500]
    with tenant_context(studio_a):
        client = Client.objects.get(pk=booking_client_a.pk)
    assert (client.email, client.email_bounced_at, client.email_bounce_reason) == ("cleo.new@example.com", None, "")
    assert "bounced" not in _page(browser, f"/desk/clients/{booking_client_a.pk}/")


def test_the_bounce_stays_when_the_address_does(studio_a, booking_client_a):
    _bounce(studio_a, booking_client_a)
    with tenant_context(studio_a):
        client = Client.objects.get(pk=booking_client_a.pk)
        client_services.client_update(client=client, first_name="Cleona", email="CLEO@example.com")
        client.refresh_from_db()

    # A change of case only is the same mailbox: still bouncing, still no mail.
    assert client.first_name == "Cleona"
    assert client.email_bounced_at is not None and client.email_bounce_reason == "550 5.1.1 mailbox unknown"


def test_erasure_drops_the_bounce_with_the_address(studio_a, booking_client_a):
    _bounce(studio_a, booking_client_a)
    with tenant_context(studio_a):
        client = client_services.client_erase(client=Client.objects.get(pk=booking_client_a.pk))

    assert (client.email_bounced_at, client.email_bounce_reason) == (None, "")


def test_a_trainer_sees_only_the_messages_about_their_own_sessions(
    studio_a, trainer_a, owner_a, make_booking, booking_client_a, colins_booking_of_cleo
):
    tess_booking = make_booking(created_by=owner_a)
    with tenant_context(studio_a):
        Notification.objects.filter(booking=colins_booking_of_cleo, kind="booking_confirmed").update(
            status="failed", attempts=5, last_error="550 mailbox full"
        )

    tess = _messages_section(
        _page(_browser(studio_a, trainer_a), f"/desk/clients/{booking_client_a.pk}/"), 'id="messages-heading"'
    )
    owner = _messages_section(
        _page(_browser(studio_a, owner_a), f"/desk/clients/{booking_client_a.pk}/"), 'id="messages-heading"'
    )

    assert f"/desk/bookings/{tess_booking.pk}/" in tess
    assert f"/desk/bookings/{colins_booking_of_cleo.pk}/" not in tess and "Failed" not in tess
    assert f"/desk/bookings/{colins_booking_of_cleo.pk}/" in owner
    assert "Failed" in owner and "550 mailbox full" in owner  # the provider's words: the owner's and managers'


def test_another_studios_messages_never_show(studio_a, studio_b, owner_a, make_booking, booking_client_a):
    make_booking()
    with tenant_context(studio_b):
        trainer = TrainerFactory(display_name="Bruno")
        WindowFactory(trainer=trainer, day_of_week=0, start_time="09:00", end_time="12:00")
        # The same id as Cleo's in studio A: ids are per studio.
        bea = ClientFactory(pk=booking_client_a.pk, email="bea@example.com", first_name="Bea")
        theirs = booking_services.booking_create(
            trainer=trainer,
            client=bea,
            session_type=SessionTypeFactory(trainers=[trainer]),
            start_time=at(next_monday(2), "09:00"),
        )
        Notification.objects.filter(booking=theirs).update(status="bounced", last_error="bea bounced")
    with tenant_context(studio_a):
        ours = Notification.objects.filter(client=booking_client_a).count()

    html = _page(_browser(studio_a, owner_a), f"/desk/clients/{booking_client_a.pk}/")
    messages = _messages_section(html, 'id="messages-heading"')

    assert messages.count("<tr>") == 1 + ours
    assert "bea" not in html.lower() and "Bounced" not in messages


def test_the_client_page_takes_the_same_queries_however_many_messages(
    studio_a, owner_a, make_booking, booking_client_a
):
    make_booking()
    browser = _browser(studio_a, owner_a)
    url = f"/desk/clients/{booking_client_a.pk}/"
    browser.get(url)  # warm the session and tenant lookups

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            _page(browser, url)
        return len(queries)

    before = count()
    make_booking(clock="11:00", day=next_monday(3))
    with tenant_context(studio_a):
        Notification.objects.filter(client=booking_client_a, kind="booking_confirmed").update(
            status="sent", sent_at=timezone.now(), recipient_email="cleo@example.com"
        )
    assert count() == before


# -- the booking's panel --------------------------------------------------------------------------------------


def test_the_panel_lists_the_bookings_messages_with_the_reminders_due(
    studio_a, owner_a, trainer_a, make_booking, client_a, booking_client_a
):
    booking = make_booking(created_by=client_a)
    with tenant_context(studio_a):
        confirmation = Notification.objects.get(booking=booking, kind="booking_confirmed")
        assert notification_send(notification_id=confirmation.pk) == "sent"
        confirmation.refresh_from_db()
        early, late = Notification.objects.filter(booking=booking, kind__in=["reminder_24h", "reminder_1h"]).order_by(
            "send_after"
        )

    html = _page(_browser(studio_a, owner_a), f"/desk/bookings/{booking.pk}/")
    messages = _messages_section(html, 'id="booking-messages"')

    # In the order they go out: the confirmation and the trainer's notice, then the reminders.
    assert (
        messages.index("Booking confirmed")
        < messages.index("New booking (staff)")
        < messages.index("Reminder, 24 hours before")
        < messages.index("Reminder, 1 hour before")
    )
    assert f'Sent <time datetime="{confirmation.sent_at.isoformat()}">' in messages
    assert f'Client <span class="meta">{booking_client_a.email}</span>' in messages
    assert f'Staff <span class="meta">{trainer_a.email}</span>' in messages
    local_early = timezone.localtime(early.send_after, booking.start_time.tzinfo)
    assert f'Due <time datetime="{early.send_after.isoformat()}">{local_early:%a} {local_early.day}' in messages
    assert f'Due <time datetime="{late.send_after.isoformat()}">' in messages
    assert "Times in Europe/London." in messages


def test_the_panel_says_a_cancelled_bookings_reminders_wont_go(studio_a, owner_a, make_booking):
    booking = make_booking()
    with tenant_context(studio_a):
        booking_services.booking_cancel(booking=booking, actor=owner_a)

    messages = _messages_section(
        _page(_browser(studio_a, owner_a), f"/desk/bookings/{booking.pk}/"), 'id="booking-messages"'
    )

    assert messages.count('<span class="outbox-status outbox-status-cancelled">Cancelled</span>') == 2
    assert messages.count("Not sent (was due") == 2
    assert "Booking cancelled" in messages and "Due <time" in messages  # the cancellation mail itself is due


def test_the_panel_flags_a_bounced_address(studio_a, owner_a, make_booking, booking_client_a):
    booking = make_booking()
    _bounce(studio_a, booking_client_a)

    html = _page(_browser(studio_a, owner_a), f"/desk/bookings/{booking.pk}/")

    assert "Mail to this address bounced on 3 November 2026: none goes to it until it is changed." in html


def test_the_panel_takes_the_same_queries_however_many_messages(studio_a, owner_a, make_booking, booking_client_a):
    booking = make_booking()
    browser = _browser(studio_a, owner_a)
    url = f"/desk/bookings/{booking.pk}/"
    browser.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            _page(browser, url)
        return len(queries)

    before = count()
    with tenant_context(studio_a):
        Notification.objects.filter(booking=booking).update(status="sent", sent_at=timezone.now())
        Notification.objects.bulk_create(
            Notification(
                client=booking_client_a, booking=booking, kind="booking_rescheduled", send_after=timezone.now()
            )
            for _ in range(10)
        )
    assert count() == before


def test_the_panel_lists_the_latest_messages_when_there_are_many(studio_a, owner_a, make_booking, booking_client_a):
    booking = make_booking()
    with tenant_context(studio_a):
        long_ago = timezone.now() - timedelta(days=30)
        Notification.objects.filter(booking=booking).update(send_after=long_ago)
        Notification.objects.bulk_create(
            Notification(
                client=booking_client_a, booking=booking, kind="booking_rescheduled", send_after=timezone.now()
            )
            for _ in range(30)
        )

    messages = _messages_section(
        _page(_browser(studio_a, owner_a), f"/desk/bookings/{booking.pk}/"), 'id="booking-messages"'
    )

    assert messages.count("<tr>") == 1 + 30
    assert "Booking confirmed" not in messages and "The latest 30 messages are shown." in messages
