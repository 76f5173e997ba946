from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import tenant_context

from tenant_apps.availability.models import TrainerBreak
from tenant_apps.bookings import services
from tests.conftest import next_monday
from tests.factories import ClientFactory, SessionTypeFactory, TrainerFactory, WindowFactory

pytestmark = pytest.mark.django_db
URL = "/api/availability/available-slots/"
LONDON = ZoneInfo("Europe/London")


def z(day, clock: str, zone=LONDON) -> str:
    moment = datetime.combine(day, time.fromisoformat(clock), tzinfo=zone)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def query(trainer, session_type, first, last=None):
    return {
        "trainer": trainer.pk,
        "session_type": session_type.pk,
        "start": first.isoformat(),
        "end": (last or first).isoformat(),
    }


def test_anyone_reads_a_days_slots(anon_a, schedule_a):
    trainer, session_type = schedule_a
    day = next_monday()

    response = anon_a.get(URL, query(trainer, session_type, day))

    assert response.status_code == 200
    assert response.json() == {
        "trainer": trainer.pk,
        "session_type": session_type.pk,
        "timezone": "Europe/London",
        "available_slots": [z(day, "09:00"), z(day, "10:00"), z(day, "11:00")],
        "total": 3,
    }


def test_bookings_with_buffers_and_breaks_are_taken_out(anon_a, schedule_a, studio_a):
    trainer, session_type = schedule_a
    day = next_monday()
    with tenant_context(studio_a):
        session_type.slot_interval_minutes = 30
        session_type.buffer_after_minutes = 30
        session_type.save()
        services.booking_create(
            trainer=trainer,
            client=ClientFactory(),
            session_type=session_type,
            start_time=datetime.combine(day, time(9), tzinfo=LONDON),
        )
        TrainerBreak.objects.create(
            trainer=trainer,
            starts_at=datetime.combine(day + timedelta(days=1), time(10), tzinfo=LONDON),
            ends_at=datetime.combine(day + timedelta(days=1), time(12), tzinfo=LONDON),
        )

    slots = anon_a.get(URL, query(trainer, session_type, day, day + timedelta(days=1))).json()["available_slots"]

    # Monday: 09:00-10:00 booked, its buffer to 10:30; the next 60-minute slot starts 10:30, the last 11:00.
    # Tuesday: the break leaves 09:00 only.
    assert slots == [z(day, "10:30"), z(day, "11:00"), z(day + timedelta(days=1), "09:00")]


def test_a_trainer_in_new_york_at_a_london_studio(anon_a, studio_a):
    new_york = ZoneInfo("America/New_York")
    with tenant_context(studio_a):
        trainer = TrainerFactory(timezone="America/New_York")
        WindowFactory(trainer=trainer, day_of_week=0, start_time="07:00", end_time="09:00")
        session_type = SessionTypeFactory(trainers=[trainer])
    day = next_monday()

    body = anon_a.get(URL, query(trainer, session_type, day)).json()

    assert body["timezone"] == "America/New_York"
    assert body["available_slots"] == [z(day, "07:00", new_york), z(day, "08:00", new_york)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end": "2030-01-01", "start": "2030-01-02"}, "end"),
        ({"start": "2030-01-01", "end": "2030-04-01"}, "end"),  # 91 days
        ({"start": "tomorrow"}, "start"),
        ({"trainer": 999999}, "trainer"),
        ({"session_type": "x"}, "session_type"),
    ],
)
def test_bad_queries_are_refused(anon_a, schedule_a, change, field):
    trainer, session_type = schedule_a

    response = anon_a.get(URL, {**query(trainer, session_type, next_monday()), **change})

    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_ninety_days_is_the_most(anon_a, schedule_a):
    trainer, session_type = schedule_a
    first = next_monday()

    ok = anon_a.get(URL, query(trainer, session_type, first, first + timedelta(days=89)))

    assert ok.status_code == 200


def test_a_trainer_who_does_not_offer_the_session_type(anon_a, schedule_a, studio_a):
    trainer, _ = schedule_a
    with tenant_context(studio_a):
        other = SessionTypeFactory()

    response = anon_a.get(URL, query(trainer, other, next_monday()))

    assert response.status_code == 400
    assert response.json()["code"] == "session_type_not_offered"


def test_another_studios_ids_mean_nothing(anon_b, schedule_a):
    trainer, session_type = schedule_a

    response = anon_b.get(URL, query(trainer, session_type, next_monday()))

    assert response.status_code == 400


def test_sixty_days_cost_the_same_few_queries_as_one(anon_a, schedule_a, studio_a, django_assert_max_num_queries):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        for week in range(4):
            services.booking_create(
                trainer=trainer,
                client=ClientFactory(),
                session_type=session_type,
                start_time=datetime.combine(next_monday() + timedelta(weeks=week), time(10), tzinfo=LONDON),
            )
    anon_a.get(URL, query(trainer, session_type, next_monday()))  # warm the host cache
    with django_assert_max_num_queries(7) as one_day:
        anon_a.get(URL, query(trainer, session_type, next_monday()))

    with django_assert_max_num_queries(len(one_day.captured_queries)):
        response = anon_a.get(URL, query(trainer, session_type, next_monday(), next_monday() + timedelta(days=59)))
    assert response.json()["total"] == 60 * 3 - 4
