"""`make run`'s demo studio is a living studio, made through the services; a second run changes nothing."""

import pytest
from django.core.management import call_command
from django.test import Client as WebClient
from django_tenants.utils import schema_context, tenant_context

from shared_apps.accounts.models import User
from tenant_apps.availability.models import AvailabilitySlot
from tenant_apps.bookings.models import Booking
from tenant_apps.clients.models import Client
from tenant_apps.packages.models import ClientPackage, CreditTransaction, SessionPackage
from tenant_apps.trainers.models import SessionType, Trainer
from tenants.management.commands.demo_setup import CLIENT_EMAIL, DEMO_PASSWORD
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
        assert all(booking.start_time > booking.created for booking in Booking.objects.all())
    assert studio.address and studio.contact_email and studio.cancellation_policy

    # The demo client can log in with the printed password and sees the studio's home page.
    browser = WebClient(HTTP_HOST="demo.localhost")
    login = browser.post("/accounts/login/", {"login": CLIENT_EMAIL, "password": DEMO_PASSWORD}, follow=True)
    page = login.content.decode()
    assert "Lena Fischer" in page and "Sam Taylor" in page and "Online coaching call" in page
    assert "Monday</th><td>07:00\u2013" in page
