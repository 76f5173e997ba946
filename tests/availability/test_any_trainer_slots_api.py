"""GET /api/availability/available-slots/?trainer=any: the union of the slots of every active trainer who offers
the session type, each by their own rules, each slot saying who is free then."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role
from tenant_apps.availability.models import TrainerBreak
from tenant_apps.bookings import services
from tests.conftest import api_client, make_user, next_monday, token_of
from tests.factories import ClientFactory, SessionTypeFactory, TrainerFactory, WindowFactory

pytestmark = pytest.mark.django_db
URL = "/api/availability/available-slots/"
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def z(day, clock: str, zone=LONDON) -> str:
    moment = datetime.combine(day, time.fromisoformat(clock), tzinfo=zone)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def any_query(session_type, first, last=None) -> dict:
    return {
        "trainer": "any",
        "session_type": session_type.pk,
        "start": first.isoformat(),
        "end": (last or first).isoformat(),
    }


def trainer_with_hours(name: str, start: str, end: str, zone: str = "Europe/London", **fields):
    trainer = TrainerFactory(display_name=name, timezone=zone, **fields)
    for day in range(7):
        WindowFactory(trainer=trainer, day_of_week=day, start_time=start, end_time=end)
    return trainer


@pytest.fixture
def team_a(studio_a):
    """Studio A's session type taught by Ann (09:00-12:00) and Ben (11:00-14:00), both in London."""
    with tenant_context(studio_a):
        ann = trainer_with_hours("Ann", "09:00", "12:00")
        ben = trainer_with_hours("Ben", "11:00", "14:00")
        session_type = SessionTypeFactory(name="Team PT", trainers=[ann, ben])
    return ann, ben, session_type


def test_slots_are_the_union_of_the_trainers_each_saying_who_is_free(anon_a, team_a):
    ann, ben, session_type = team_a
    day = next_monday()

    response = anon_a.get(URL, any_query(session_type, day))

    assert response.status_code == 200
    assert response.json() == {
        "trainer": "any",
        "session_type": session_type.pk,
        "timezone": "Europe/London",
        "available_slots": [z(day, clock) for clock in ("09:00", "10:00", "11:00", "12:00", "13:00")],
        "total": 5,
        "slots": [
            {"start": z(day, "09:00"), "trainers": [ann.pk]},
            {"start": z(day, "10:00"), "trainers": [ann.pk]},
            {"start": z(day, "11:00"), "trainers": [ann.pk, ben.pk]},
            {"start": z(day, "12:00"), "trainers": [ben.pk]},
            {"start": z(day, "13:00"), "trainers": [ben.pk]},
        ],
    }


def test_each_trainers_bookings_and_breaks_count_for_them_alone(anon_a, team_a, studio_a):
    ann, ben, session_type = team_a
    day = next_monday()
    with tenant_context(studio_a):
        services.booking_create(
            trainer=ben,
            client=ClientFactory(),
            session_type=session_type,
            start_time=datetime.combine(day, time(11), tzinfo=LONDON),
        )
        TrainerBreak.objects.create(
            trainer=ann,
            starts_at=datetime.combine(day, time(9), tzinfo=LONDON),
            ends_at=datetime.combine(day, time(10), tzinfo=LONDON),
        )

    slots = anon_a.get(URL, any_query(session_type, day)).json()["slots"]

    assert slots == [
        {"start": z(day, "10:00"), "trainers": [ann.pk]},
        {"start": z(day, "11:00"), "trainers": [ann.pk]},
        {"start": z(day, "12:00"), "trainers": [ben.pk]},
        {"start": z(day, "13:00"), "trainers": [ben.pk]},
    ]


def test_a_start_taken_with_everyone_is_not_offered(anon_a, team_a, studio_a):
    ann, ben, session_type = team_a
    day = next_monday()
    with tenant_context(studio_a):
        for trainer in (ann, ben):
            services.booking_create(
                trainer=trainer,
                client=ClientFactory(),
                session_type=session_type,
                start_time=datetime.combine(day, time(11), tzinfo=LONDON),
            )

    body = anon_a.get(URL, any_query(session_type, day)).json()

    assert z(day, "11:00") not in body["available_slots"]
    assert body["total"] == 4


def test_inactive_trainers_and_trainers_not_offering_the_type_are_left_out(anon_a, team_a, studio_a):
    ann, ben, session_type = team_a
    day = next_monday()
    with tenant_context(studio_a):
        retired = trainer_with_hours("Retired", "06:00", "08:00", is_active=False)
        session_type.trainers.add(retired)
        trainer_with_hours("Yoga only", "15:00", "17:00")

    body = anon_a.get(URL, any_query(session_type, day)).json()

    assert body["available_slots"][0] == z(day, "09:00")
    assert body["available_slots"][-1] == z(day, "13:00")
    assert {trainer for slot in body["slots"] for trainer in slot["trainers"]} == {ann.pk, ben.pk}


def test_dates_are_the_studios_and_each_trainer_keeps_their_own_zone(anon_a, studio_a):
    """A New York trainer's 20:00 falls on the next London day: it shows on the studio's day it happens in."""
    day = next_monday()
    with tenant_context(studio_a):
        nina = trainer_with_hours("Nina", "20:00", "21:00", zone="America/New_York")
        session_type = SessionTypeFactory(trainers=[nina])
    expected = [
        z(local_day, "20:00", NEW_YORK)
        for local_day in (day - timedelta(days=1), day)
        if datetime.combine(local_day, time(20), tzinfo=NEW_YORK).astimezone(LONDON).date() == day
    ]

    body = anon_a.get(URL, any_query(session_type, day)).json()

    assert expected  # Sunday's 20:00 in New York is Monday in London
    assert body["available_slots"] == expected
    assert body["timezone"] == "Europe/London"


def test_notice_and_horizon_of_the_session_type_apply(anon_a, team_a, studio_a):
    _, _, session_type = team_a
    with tenant_context(studio_a):
        session_type.max_advance_days = 3
        session_type.save()

    body = anon_a.get(URL, any_query(session_type, next_monday(weeks_ahead=2))).json()

    assert body["total"] == 0 and body["slots"] == []


@pytest.mark.parametrize("trainer", ["all", "ANY", "", "1.5"])
def test_trainer_is_an_id_or_the_word_any(anon_a, team_a, trainer):
    _, _, session_type = team_a

    response = anon_a.get(URL, {**any_query(session_type, next_monday()), "trainer": trainer})

    assert response.status_code == 400
    assert "trainer" in response.json()["fields"]


def test_a_session_type_no_longer_offered_is_refused(anon_a, team_a, studio_a):
    _, _, session_type = team_a
    with tenant_context(studio_a):
        session_type.is_active = False
        session_type.save()

    response = anon_a.get(URL, any_query(session_type, next_monday()))

    assert response.status_code == 400
    assert "session_type" in response.json()["fields"]


# -- who may read it: anyone on the studio's host; nothing of another studio -------------------------------


def test_anyone_on_the_studio_reads_the_same_slots(anon_a, as_user, team_a, studio_a, client_a, manager_a, trainer_a):
    _, _, session_type = team_a
    query = any_query(session_type, next_monday())
    expected = anon_a.get(URL, query).json()

    for user in (client_a, manager_a, trainer_a):
        response = as_user(user).get(URL, query)
        assert response.status_code == 200
        assert response.json() == expected


def test_another_studio_sees_nothing_of_this_one(anon_b, as_user, team_a, studio_b):
    _, _, session_type = team_a
    owner_b = make_user(studio_b, role=Role.OWNER, email="boss@bravo.test")
    callers_b = (anon_b, as_user(owner_b, studio_b))

    for caller in callers_b:
        # Studio A's session type is no id on studio B.
        response = caller.get(URL, any_query(session_type, next_monday()))
        assert response.status_code == 400
        assert "session_type" in response.json()["fields"]
    with tenant_context(studio_b):
        session_type_b = SessionTypeFactory()  # B's own, taught by nobody: none of A's trainers shows up
    for caller in callers_b:
        response = caller.get(URL, any_query(session_type_b, next_monday()))
        assert response.status_code == 200
        assert response.json()["total"] == 0


def test_a_token_of_one_studio_is_refused_on_another(team_a, studio_a, client_a):
    _, _, session_type = team_a

    response = api_client("bravo.localhost", token_of(client_a, studio_a)).get(
        URL, any_query(session_type, next_monday())
    )

    assert response.status_code == 401


# -- cost ---------------------------------------------------------------------------------------------------


def count_queries(client, query) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, query)
    assert response.status_code == 200
    return len(captured.captured_queries), response.json()


def test_three_or_ten_trainers_cost_the_same_queries(anon_a, studio_a):
    day = next_monday()
    with tenant_context(studio_a):
        session_type = SessionTypeFactory()

    def add_trainers(count: int) -> None:
        with tenant_context(studio_a):
            for index in range(count):
                trainer = trainer_with_hours(f"Coach {index}", "09:00", "12:00")
                session_type.trainers.add(trainer)
                services.booking_create(
                    trainer=trainer,
                    client=ClientFactory(),
                    session_type=session_type,
                    start_time=datetime.combine(day, time(9), tzinfo=LONDON),
                )
                TrainerBreak.objects.create(
                    trainer=trainer,
                    starts_at=datetime.combine(day, time(11), tzinfo=LONDON),
                    ends_at=datetime.combine(day, time(12), tzinfo=LONDON),
                )

    add_trainers(3)
    query = any_query(session_type, day, day + timedelta(days=6))
    anon_a.get(URL, query)  # warm the host cache
    three, body_three = count_queries(anon_a, query)
    add_trainers(7)
    ten, body_ten = count_queries(anon_a, query)

    assert len(body_three["slots"][0]["trainers"]) == 3
    assert len(body_ten["slots"][0]["trainers"]) == 10
    assert body_ten["slots"][0]["start"] == z(day, "10:00")  # 09:00 booked and 11:00 on a break, with everyone
    assert three == ten
    assert ten <= 7  # the schema, the session type, the trainers, their windows, bookings, holds, breaks
