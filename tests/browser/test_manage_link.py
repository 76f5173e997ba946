"""A client opens the manage link from their mail, without signing in, moves the booking to another free time
(picked on the week of free times, confirmed on the next page), then cancels in good time: the page said
beforehand that the credit comes back, the booking is cancelled and the credit is back. A link that doesn't work
gets a page in the theme. axe and the console are checked on each."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import User
from tenant_apps.bookings.holds import hold_token_hash
from tenant_apps.bookings.models import Booking, BookingHold
from tenant_apps.clients.models import Client
from tenant_apps.packages.models import ClientPackage, CreditTransaction, SessionPackage
from tenant_apps.trainers.models import SessionType, Trainer
from tests.browser.conftest import check_page, studio_of
from tests.conftest import next_monday, run_committed
from tests.live import live_server, tail

pytestmark = pytest.mark.django_db
TRAINER_EMAIL = "link-coach@alpha.test"
CLIENT_EMAIL = "lena.link@example.com"
GUEST_EMAIL = "gina.link@example.com"
HOLD_TOKEN = "a-browser-guests-token-0123456789abcdef"
SESSION_TYPE = "Link personal training"
PACKAGE = "Link ten"
LONDON = ZoneInfo("Europe/London")


def _set_up() -> dict:
    from tenant_apps.availability.services import availability_create
    from tenant_apps.bookings.services import booking_create
    from tenant_apps.bookings.tokens import booking_manage_token
    from tenant_apps.clients.services import client_create
    from tenant_apps.packages.services import package_assign, package_create
    from tenant_apps.trainers.services import session_type_create, trainer_create

    with tenant_context(studio_of("alpha")):
        trainer = trainer_create(email=TRAINER_EMAIL, first_name="Mia", last_name="Moss", timezone="Europe/London")
        for day in range(7):
            availability_create(trainer=trainer, day_of_week=day, start_time="09:00", end_time="12:00")
        session_type = session_type_create(
            name=SESSION_TYPE, duration_minutes=60, price="40.00", trainers=[trainer], cancellation_window_hours=24
        )
        package = package_create(
            name=PACKAGE, sessions_count=10, price="350.00", validity_days=90, session_types=[session_type]
        )
        client = client_create(email=CLIENT_EMAIL, first_name="Lena", last_name="Link")
        pack = package_assign(package=package, client=client, payment_method="cash", amount_paid=Decimal("350"))
        booking = booking_create(
            trainer=trainer,
            client=client,
            session_type=session_type,
            start_time=datetime.combine(next_monday(), time(10), tzinfo=LONDON),
        )
        assert booking.client_package_id == pack.pk
        wednesday = datetime.combine(next_monday() + timedelta(days=2), time(9), tzinfo=LONDON)
        BookingHold.objects.create(
            trainer=trainer,
            session_type=session_type,
            start_time=wednesday,
            end_time=wednesday + timedelta(hours=1),
            blocked_from=wednesday,
            blocked_until=wednesday + timedelta(hours=1),
            first_name="Gina",
            last_name="Guest",
            email=GUEST_EMAIL,
            phone="+447911123456",
            expires_at=timezone.now() + timedelta(hours=1),
            client_address="203.0.113.7",
            token_hash=hold_token_hash(HOLD_TOKEN),
        )
        return {"token": booking_manage_token(booking), "booking": booking.pk, "pack": pack.pk}


def _tear_down() -> None:
    with tenant_context(studio_of("alpha")):
        emails = [CLIENT_EMAIL, GUEST_EMAIL]
        BookingHold.objects.filter(email=GUEST_EMAIL).delete()
        CreditTransaction.objects.filter(client_package__client__email__in=emails).delete()
        Booking.objects.filter(client__email__in=emails).delete()
        ClientPackage.objects.filter(client__email__in=emails).delete()
        SessionPackage.objects.filter(name=PACKAGE).delete()
        Client.objects.filter(email__in=emails).delete()
        SessionType.objects.filter(name=SESSION_TYPE).delete()
        Trainer.objects.filter(user__email=TRAINER_EMAIL).delete()
        User.objects.filter(email=TRAINER_EMAIL).delete()


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        run_committed(_tear_down)
        made = run_committed(_set_up)
        if isinstance(made, Exception):
            raise made
    try:
        # The server signs and checks links with the tests' key, so the link made here works there.
        with live_server(SECRET_KEY=settings.SECRET_KEY) as (port, log):
            yield {"url": f"http://alpha.localhost:{port}", "log": log, **made}
    finally:
        with django_db_blocker.unblock():
            run_committed(_tear_down)


def test_a_client_moves_then_cancels_by_link_in_good_time_and_gets_the_credit_back(page, server):
    link = f"{server['url']}/b/{server['token']}/"

    response = page.goto(link)

    assert response.status == 200, tail(server["log"])
    main = page.inner_text("main")
    assert SESSION_TYPE in main and "Mia Moss" in main and "(Europe/London)" in main and "Confirmed" in main
    check_page(page, "manage-booking")

    page.get_by_role("link", name="Move to another time").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Move your booking"
    assert "Europe/London" in page.inner_text(".zone-note")
    check_page(page, "manage-reschedule")
    # The /book/ week: the arrows swap it in place (htmx) and put it in the URL; the page around it stays.
    this_week = page.locator("#week-heading").inner_text()
    page.get_by_role("link", name="Next week").click()
    page.wait_for_url("**week=*")
    assert page.locator("#week-heading").inner_text() != this_week
    assert page.get_by_role("heading", level=1).inner_text() == "Move your booking"
    monday = page.locator(".week-day").filter(has=page.locator(f"#day-{next_monday().isoformat()}"))
    assert "10:00" not in monday.inner_text()  # the booking's own time is not offered
    check_page(page, "manage-reschedule-next-week")
    tuesday = next_monday() + timedelta(days=1)
    page.get_by_role("link", name=f"Move to {tuesday:%A} {tuesday.day} {tuesday:%B} at 11:00").click()

    # Following the link moves nothing: a page asks first.
    assert page.get_by_role("heading", level=1).inner_text() == "Move your booking?"
    assert f"to {tuesday:%A} {tuesday.day} {tuesday:%B %Y}, 11:00" in page.inner_text("#move")
    check_page(page, "manage-reschedule-confirm")
    with tenant_context(studio_of("alpha")):
        assert Booking.objects.get(pk=server["booking"]).start_time == datetime.combine(
            next_monday(), time(10), tzinfo=LONDON
        )
    page.get_by_role("button", name="Move the booking").click()

    assert page.url == link
    assert f"Your booking now starts {tuesday:%a} {tuesday.day} {tuesday:%b %Y} 11:00 (Europe/London)." in (
        page.inner_text("main")
    )
    page.get_by_role("link", name="Cancel this booking").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Cancel your booking"
    assert page.locator("#outcome").inner_text() == f"Your credit comes back to your package {PACKAGE}."
    check_page(page, "manage-cancel")

    page.get_by_role("button", name="Cancel the booking").click()

    assert page.url == link
    main = page.inner_text("main")
    assert f"Your booking is cancelled and your credit came back: 10 left in {PACKAGE}." in main
    assert "Cancelled" in main and "can no longer be changed" in main
    check_page(page, "manage-cancelled")
    with tenant_context(studio_of("alpha")):
        booking = Booking.objects.get(pk=server["booking"])
        assert (booking.status, booking.cancelled_by, booking.credit_returned) == ("cancelled", "client", True)
        assert booking.start_time == datetime.combine(tuesday, time(11), tzinfo=LONDON)
        assert ClientPackage.objects.get(pk=server["pack"]).sessions_remaining == 10


def test_a_link_that_does_not_work_gets_a_page_in_the_theme(page, server):
    response = page.goto(f"{server['url']}/b/not-a-real-token/")

    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "This link doesn't work"
    assert "trainerhub" not in page.content().lower()
    page.console_problems.clear()  # the 404 itself is the point here
    check_page(page, "manage-link-invalid")


def test_a_guest_confirms_the_held_time_with_the_button_and_lands_on_the_manage_page(page, server):
    response = page.goto(f"{server['url']}/book/confirm/{HOLD_TOKEN}/")

    assert response.status == 200, tail(server["log"])
    assert page.get_by_role("heading", level=1).inner_text() == "Confirm your booking"
    assert "Gina Guest" in page.inner_text("main") and "(Europe/London)" in page.inner_text("main")
    check_page(page, "confirm-hold")

    page.get_by_role("button", name="Confirm booking").click()

    assert "/b/" in page.url
    assert "Your booking is confirmed." in page.inner_text("main")
    check_page(page, "confirm-hold-done")
    with tenant_context(studio_of("alpha")):
        assert Booking.objects.filter(client__email=GUEST_EMAIL, status="confirmed").count() == 1
