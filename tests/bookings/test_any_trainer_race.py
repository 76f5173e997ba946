"""Clients racing for "any available trainer" at one time, for real: threads on their own connections, against
committed data, removed afterwards."""

import contextlib
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from shared_apps.accounts.models import Role, User
from tenant_apps.availability.models import AvailabilitySlot
from tenant_apps.bookings.models import Booking, BookingEvent
from tenant_apps.clients.models import Client
from tenant_apps.trainers.models import SessionType, Trainer
from tests.conftest import api_client, next_monday, run_committed, run_in_threads

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
COACHES = ("Any Race Coach 1", "Any Race Coach 2")
RACERS = 3


@contextlib.contextmanager
def committed_team(studio):
    """Two trainers, 09:00-12:00 every day, one session type, RACERS client accounts: committed, then removed."""

    def create():
        with tenant_context(studio):
            session_type = SessionType.objects.create(name="Any Race", duration_minutes=60, price=10, currency="GBP")
            trainer_ids = []
            for index, name in enumerate(COACHES):
                user = User.objects.create_user(f"any-race-coach{index}@alpha.test", role=Role.TRAINER)
                trainer = Trainer.objects.create(user=user, display_name=name, timezone="Europe/London")
                for day in range(7):
                    AvailabilitySlot.objects.create(
                        trainer=trainer, day_of_week=day, start_time=time(9), end_time=time(12)
                    )
                session_type.trainers.add(trainer)
                trainer_ids.append(trainer.pk)
            tokens = []
            for index in range(RACERS):
                racer = User.objects.create_user(f"any-racer{index}@alpha.test", role=Role.CLIENT)
                Client.objects.create(email=racer.email, first_name=f"Any Racer {index}", user=racer)
                tokens.append(Token.objects.create(user=racer).key)
            return trainer_ids, session_type.pk, tokens

    def remove():
        with tenant_context(studio):
            BookingEvent.objects.filter(booking__trainer__display_name__in=COACHES).delete()
            Booking.objects.filter(trainer__display_name__in=COACHES).delete()
            Client.objects.filter(email__startswith="any-racer").delete()
            SessionType.objects.filter(name="Any Race").delete()
            Trainer.objects.filter(display_name__in=COACHES).delete()
            User.objects.filter(email__startswith="any-race").delete()

    created = run_committed(create)
    if isinstance(created, Exception):
        run_committed(remove)
        raise created
    try:
        yield created
    finally:
        outcome = run_committed(remove)
        if isinstance(outcome, Exception):
            raise outcome


def test_two_clients_get_the_last_two_trainers_and_a_third_gets_409(studio_a):
    with committed_team(studio_a) as (trainer_ids, session_type_id, tokens):
        start = datetime.combine(next_monday(), time(10), tzinfo=LONDON)
        body = {"trainer": "any", "session_type": session_type_id, "start_time": start.isoformat()}

        results = run_in_threads(
            RACERS,
            lambda index: api_client("alpha.localhost", tokens[index]).post("/api/bookings/", body, format="json"),
        )

        statuses = sorted(getattr(result, "status_code", repr(result)) for result in results)
        assert statuses == [201, 201, 409], results
        assert {r.json()["trainer"] for r in results if r.status_code == 201} == set(trainer_ids)
        assert [r.json()["code"] for r in results if r.status_code == 409] == ["slot_unavailable"]

        def booked():
            with tenant_context(studio_a):
                return sorted(
                    Booking.objects.filter(trainer_id__in=trainer_ids, status__in=Booking.ACTIVE_STATUSES).values_list(
                        "trainer_id", flat=True
                    )
                )

        assert run_committed(booked) == sorted(trainer_ids)
