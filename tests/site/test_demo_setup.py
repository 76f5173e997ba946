"""`make run`'s demo studio is a living studio, made through the services; a second run changes nothing, and
each new day gets its sessions at the desk."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client as WebClient
from django_tenants.utils import schema_context, tenant_context

from shared_apps.accounts.models import User
from shared_apps.core.tenancy import studio_date
from tenant_apps.availability.models import AvailabilitySlot
from tenant_apps.availability.selectors import studio_day_bounds
from tenant_apps.bookings.models import Booking, BookingStatus, PaymentState
from tenant_apps.clients.models import Client
from tenant_apps.packages.models import ClientPackage, CreditTransaction, SessionPackage
from tenant_apps.trainers.models import SessionType, Trainer
from tenants.management.commands.demo_setup import (
    CLIENT_EMAIL,
    DAY_PACKAGE,
    DAY_SESSIONS,
    DEMO_PASSWORD,
    OWNER_EMAIL,
    demo_studio_fill,
)
from tenants.models import Studio

pytestmark = pytest.mark.django_db(transaction=False)


def _counts(studio) -> dict:
    with tenant_context(studio):
        return {
            model.__name__: model.objects.count()
            for model in (
                User,
                Trainer,
                AvailabilitySlot,
                SessionType,
                SessionPackage,
                Client,
                ClientPackage,
                CreditTransaction,
                Booking,
            )
        }


def test_the_demo_studio_is_a_living_studio_and_a_second_run_changes_nothing(studio_a, capsys):
    call_command("demo_setup")
    output = capsys.readouterr().out
    with schema_context("public"):
        studio = Studio.objects.get(slug="demo")
    first = _counts(studio)

    call_command("demo_setup")
    second = _counts(studio)

    assert first == second
    assert first["Trainer"] == 3 and first["SessionType"] == 3 and first["SessionPackage"] == 2
    assert f"client login {CLIENT_EMAIL} / {DEMO_PASSWORD}" in output
    with tenant_context(studio):
        assert {trainer.timezone for trainer in Trainer.objects.all()} == {"Europe/London", "America/New_York"}
        # Different weekly hours for each trainer.
        hours = {
            trainer.display_name: frozenset(trainer.availability.values_list("day_of_week", "start_time", "end_time"))
            for trainer in Trainer.objects.all()
        }
        assert len(set(hours.values())) == 3
        assert SessionType.objects.filter(buffer_before_minutes__gt=0).exists()
        assert len(set(SessionType.objects.values_list("color", flat=True))) == 3
        lena = Client.objects.get(email=CLIENT_EMAIL)
        assert lena.user is not None and (lena.first_name, lena.last_name) == ("Lena", "Fischer")
        package = ClientPackage.objects.get(client=lena)
        lena_bookings = Booking.objects.filter(client=lena)
        assert lena_bookings.count() == 3
        assert {booking.client_package_id for booking in lena_bookings} == {package.pk}
        assert package.sessions_remaining == 10 - lena_bookings.count()
        assert Booking.objects.count() >= 6
        # The weeks ahead are booked ahead; only today's sessions may have begun.
        ahead = Booking.objects.exclude(client__email__in=[row[0] for row in DAY_SESSIONS])
        assert all(booking.start_time > booking.created for booking in ahead)
    assert studio.address and studio.contact_email and studio.cancellation_policy

    # The demo client can log in with the printed password and sees the studio's home page.
    browser = WebClient(HTTP_HOST="demo.localhost")
    login = browser.post("/accounts/login/", {"login": CLIENT_EMAIL, "password": DEMO_PASSWORD}, follow=True)
    page = login.content.decode()
    assert "Lena Fischer" in page and "Sam Taylor" in page and "Online coaching call" in page
    assert "Monday</th><td>07:00\u2013" in page


LONDON = ZoneInfo("Europe/London")
# Tuesday: Priya works 09:00-17:00 in London, Jordan 07:00-11:00 in New York (12:00-16:00 in London); Sam doesn't.
TUESDAY_MORNING = datetime(2030, 6, 4, 11, 20, tzinfo=LONDON)


def _demo_studio() -> Studio:
    call_command("demo_setup")
    with schema_context("public"):
        return Studio.objects.get(slug="demo")


def _sessions_on(studio, moment: datetime) -> list[Booking]:
    """The bookings of the studio's day of ``moment``, in time order, as the desk's Today page lists them."""
    with tenant_context(studio):
        today = studio_date(moment)
        since, until = studio_day_bounds(today, today)
        return list(
            Booking.objects.filter(start_time__gte=since, start_time__lt=until)
            .select_related("trainer__user", "client", "client_package__package", "created_by")
            .order_by("start_time")
        )


def test_the_demo_has_sessions_today_one_under_way_and_unpaid_and_a_second_run_adds_nothing(studio_a):
    studio = _demo_studio()

    demo_studio_fill(studio, now=TUESDAY_MORNING)
    first = _counts(studio)
    demo_studio_fill(studio, now=TUESDAY_MORNING.replace(hour=15))

    assert _counts(studio) == first
    sessions = _sessions_on(studio, TUESDAY_MORNING)
    assert len(sessions) == 3
    assert len({booking.client_id for booking in sessions}) == 3
    assert {booking.trainer.user.email for booking in sessions} == {"priya@demo.localhost", "jordan@demo.localhost"}
    assert all(booking.status == BookingStatus.CONFIRMED for booking in sessions)
    under_way = [booking for booking in sessions if booking.start_time <= TUESDAY_MORNING < booking.end_time]
    assert len(under_way) == 1
    started = under_way[0]
    # Inside Priya's window (11:00 London), so booked through the grid, not as a walk-in; the desk sees it owes.
    assert started.start_time == datetime(2030, 6, 4, 11, tzinfo=LONDON)
    assert started.created_by is None and started.payment_state == PaymentState.UNPAID
    later = [booking for booking in sessions if booking.start_time > TUESDAY_MORNING]
    assert {booking.payment_state for booking in later} == {PaymentState.CREDIT, PaymentState.UNPAID}
    paid = next(booking for booking in later if booking.payment_state == PaymentState.CREDIT)
    assert paid.client_package.package.name == DAY_PACKAGE
    with tenant_context(studio):
        # Lena's bookings and credits are the README's: the day's sessions are other clients'.
        lena = Client.objects.get(email=CLIENT_EMAIL)
        assert Booking.objects.filter(client=lena).count() == 3
        assert ClientPackage.objects.get(client=lena).sessions_remaining == 7
        assert all(booking.client.phone for booking in sessions)


def test_a_session_that_began_outside_the_windows_is_a_walk_in_the_owner_entered(studio_a):
    studio = _demo_studio()
    evening = TUESDAY_MORNING.replace(hour=17, minute=30)  # Priya's window closed at 17:00, Jordan's at 16:00

    demo_studio_fill(studio, now=evening)

    sessions = _sessions_on(studio, evening)
    assert len(sessions) == 1  # no free slot is left later today
    walk_in = sessions[0]
    assert walk_in.start_time == evening.replace(minute=0)
    assert walk_in.status == BookingStatus.CONFIRMED and walk_in.payment_state == PaymentState.UNPAID
    assert walk_in.created_by.email == OWNER_EMAIL
    with tenant_context(studio):
        assert walk_in.events.get().off_grid


def test_a_run_on_the_next_day_adds_that_days_sessions_and_keeps_the_days_before(studio_a):
    studio = _demo_studio()
    demo_studio_fill(studio, now=TUESDAY_MORNING)
    tuesday = _sessions_on(studio, TUESDAY_MORNING)
    wednesday_morning = datetime(2030, 6, 5, 10, 30, tzinfo=LONDON)

    demo_studio_fill(studio, now=wednesday_morning)

    assert _sessions_on(studio, TUESDAY_MORNING) == tuesday
    wednesday = _sessions_on(studio, wednesday_morning)
    assert len(wednesday) == 3
    assert {booking.trainer.user.email for booking in wednesday} == {"sam@demo.localhost", "jordan@demo.localhost"}
    assert sum(booking.start_time <= wednesday_morning < booking.end_time for booking in wednesday) == 1


def test_a_day_no_trainer_works_gets_no_sessions(studio_a):
    studio = _demo_studio()
    sunday = datetime(2030, 6, 9, 11, 20, tzinfo=LONDON)
    before = _counts(studio)

    demo_studio_fill(studio, now=sunday)

    assert _sessions_on(studio, sunday) == []
    assert _counts(studio) == before
