"""Races run for real: threads, each on its own database connection, against committed data."""

import contextlib
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
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
RACERS = 8


@contextlib.contextmanager
def committed_schedule(studio):
    """A trainer with windows, a session type and RACERS client accounts, committed; removed afterwards."""

    def create():
        with tenant_context(studio):
            user = User.objects.create_user("racing-coach@alpha.test", role=Role.TRAINER)
            trainer = Trainer.objects.create(user=user, display_name="Racing Coach", timezone="Europe/London")
            for day in range(7):
                AvailabilitySlot.objects.create(trainer=trainer, day_of_week=day, start_time=time(9), end_time=time(12))
            session_type = SessionType.objects.create(name="Race", duration_minutes=60, price=10, currency="GBP")
            session_type.trainers.add(trainer)
            tokens = []
            for index in range(RACERS):
                racer = User.objects.create_user(f"racer{index}@alpha.test", role=Role.CLIENT)
                Client.objects.create(email=racer.email, first_name=f"Racer {index}", user=racer)
                tokens.append(Token.objects.create(user=racer).key)
            return trainer.pk, session_type.pk, tokens

    def remove():
        with tenant_context(studio):
            BookingEvent.objects.filter(booking__trainer__display_name="Racing Coach").delete()
            Booking.objects.filter(trainer__display_name="Racing Coach").delete()
            Client.objects.filter(email__startswith="racer").delete()
            SessionType.objects.filter(name="Race").delete()
            Trainer.objects.filter(display_name="Racing Coach").delete()
            User.objects.filter(
                email__in=["racing-coach@alpha.test"] + [f"racer{i}@alpha.test" for i in range(RACERS)]
            ).delete()

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


def at(day, clock: str) -> str:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=LONDON).isoformat()


def active_bookings(studio, trainer_id) -> int:
    def count():
        with tenant_context(studio):
            return Booking.objects.filter(trainer_id=trainer_id, status__in=Booking.ACTIVE_STATUSES).count()

    return run_committed(count)


def test_many_clients_racing_for_one_slot_get_one_booking_and_clean_409s(studio_a):
    with committed_schedule(studio_a) as (trainer_id, session_type_id, tokens):
        body = {"trainer": trainer_id, "session_type": session_type_id, "start_time": at(next_monday(), "10:00")}

        results = run_in_threads(
            RACERS, lambda index: api_client("alpha.localhost", tokens[index]).post("/api/bookings/", body)
        )

        statuses = sorted(getattr(result, "status_code", repr(result)) for result in results)
        assert statuses == [201] + [409] * (RACERS - 1), results
        assert all(r.json()["code"] == "slot_unavailable" for r in results if r.status_code == 409)
        assert active_bookings(studio_a, trainer_id) == 1


def test_overlapping_starts_racing_get_one_booking(studio_a):
    """Different starts that overlap (09:00 and 09:30 of a 60-minute session every 30 minutes)."""
    with committed_schedule(studio_a) as (trainer_id, session_type_id, tokens):

        def set_interval():
            with tenant_context(studio_a):
                SessionType.objects.filter(pk=session_type_id).update(slot_interval_minutes=30)

        run_committed(set_interval)
        starts = ["09:00", "09:30", "10:00"]

        results = run_in_threads(
            6,
            lambda index: api_client("alpha.localhost", tokens[index]).post(
                "/api/bookings/",
                {
                    "trainer": trainer_id,
                    "session_type": session_type_id,
                    "start_time": at(next_monday(), starts[index % 3]),
                },
            ),
        )

        statuses = [result.status_code for result in results]
        assert set(statuses) <= {201, 409}, results
        assert 1 <= statuses.count(201) <= 2  # 09:00 and 10:00 can both win; 09:30 only if it was first

        def overlapping():
            with tenant_context(studio_a), connection.cursor() as cursor:
                cursor.execute(
                    """SELECT count(*) FROM bookings_booking a JOIN bookings_booking b
                       ON a.trainer_id = b.trainer_id AND a.id < b.id
                       AND tstzrange(a.start_time, a.end_time) && tstzrange(b.start_time, b.end_time)
                       WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')"""
                )
                return cursor.fetchone()[0]

        assert run_committed(overlapping) == 0
        assert active_bookings(studio_a, trainer_id) == statuses.count(201)


def test_a_reschedule_racing_a_new_booking_for_the_same_slot(studio_a):
    with committed_schedule(studio_a) as (trainer_id, session_type_id, tokens):
        day = next_monday()
        first = run_committed(
            lambda: api_client("alpha.localhost", tokens[0]).post(
                "/api/bookings/",
                {"trainer": trainer_id, "session_type": session_type_id, "start_time": at(day, "09:00")},
            )
        )
        assert first.status_code == 201
        booking_id = first.json()["id"]

        def act(index):
            client = api_client("alpha.localhost", tokens[index % 2])
            if index % 2 == 0:
                return client.post(f"/api/bookings/{booking_id}/reschedule/", {"start_time": at(day, "11:00")})
            return client.post(
                "/api/bookings/",
                {"trainer": trainer_id, "session_type": session_type_id, "start_time": at(day, "11:00")},
            )

        for _ in range(3):  # a few rounds, each a fresh race for 11:00
            results = run_in_threads(2, act)
            statuses = sorted(result.status_code for result in results)
            assert statuses in ([200, 409], [201, 409]), results

            def reset():
                with tenant_context(studio_a):
                    Booking.objects.filter(trainer_id=trainer_id).exclude(pk=booking_id).delete()
                    Booking.objects.filter(pk=booking_id).update(
                        start_time=datetime.combine(day, time(9), tzinfo=LONDON),
                        end_time=datetime.combine(day, time(10), tzinfo=LONDON),
                        blocked_from=datetime.combine(day, time(9), tzinfo=LONDON),
                        blocked_until=datetime.combine(day, time(10), tzinfo=LONDON),
                    )

            run_committed(reset)
