"""POST /api/bookings/ with "trainer": "any": who may, what it answers, and that the schema says so."""

import pytest
from django_tenants.utils import tenant_context
from drf_spectacular.generators import SchemaGenerator

from shared_apps.accounts.models import Role
from tenant_apps.bookings.models import Booking
from tests.bookings.conftest import at
from tests.conftest import api_client, make_user, next_monday, token_of
from tests.factories import SessionTypeFactory, TrainerFactory, WindowFactory

pytestmark = pytest.mark.django_db
URL = "/api/bookings/"


def coach(name: str):
    trainer = TrainerFactory(display_name=name)
    for day in range(7):
        WindowFactory(trainer=trainer, day_of_week=day, start_time="09:00", end_time="12:00")
    return trainer


@pytest.fixture
def team(studio_a, schedule_a):
    """Tess (schedule_a, trainer_a's calendar) and Ann, both offering PT 60, 09:00-12:00."""
    tess, session_type = schedule_a
    with tenant_context(studio_a):
        ann = coach("Ann")
        session_type.trainers.add(ann)
    return tess, ann, session_type


def body(session_type, clock="10:00", **extra) -> dict:
    return {
        "trainer": "any",
        "session_type": session_type.pk,
        "start_time": at(next_monday(), clock).isoformat(),
        **extra,
    }


def bookings_at(studio, clock="10:00") -> int:
    with tenant_context(studio):
        return Booking.objects.filter(start_time=at(next_monday(), clock)).count()


def test_a_client_books_any_trainer_for_themselves(as_user, client_a, booking_client_a, team, studio_a):
    tess, ann, session_type = team

    response = as_user(client_a).post(URL, body(session_type, notes="First time"), format="json")

    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["trainer"] == min(tess.pk, ann.pk)  # nobody has a session that week: the lower id
    assert answer["client"] == booking_client_a.pk
    assert answer["notes"] == "First time"
    assert answer["status"] == "confirmed"


def test_the_second_booking_goes_to_the_other_trainer_then_409(as_user, client_a, booking_client_a, team, studio_a):
    tess, ann, session_type = team
    client = as_user(client_a)

    first = client.post(URL, body(session_type), format="json")
    second = client.post(URL, body(session_type), format="json")
    third = client.post(URL, body(session_type), format="json")

    assert {first.json()["trainer"], second.json()["trainer"]} == {tess.pk, ann.pk}
    assert third.status_code == 409
    assert third.json()["code"] == "slot_unavailable"
    assert bookings_at(studio_a) == 2


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER])
def test_the_studios_managers_book_any_trainer_for_a_client(as_user, booking_client_a, team, studio_a, role):
    *_, session_type = team
    manager = make_user(studio_a, role=role, email=f"{role}-x@alpha.test")

    response = as_user(manager).post(URL, body(session_type, client=booking_client_a.pk), format="json")

    assert response.status_code == 201
    assert response.json()["client"] == booking_client_a.pk


def test_staff_must_name_the_client(as_user, manager_a, team, studio_a):
    *_, session_type = team

    response = as_user(manager_a).post(URL, body(session_type), format="json")

    assert response.status_code == 400
    assert "client" in response.json()["fields"]
    assert bookings_at(studio_a) == 0


def test_a_trainer_books_their_own_calendar_only(as_user, trainer_a, booking_client_a, team, studio_a):
    tess, _, session_type = team
    with tenant_context(studio_a):
        booking_client_a.primary_trainer = tess  # a client Tess trains, so she may name them
        booking_client_a.save()

    response = as_user(trainer_a).post(URL, body(session_type, client=booking_client_a.pk), format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "own_calendar_only"
    assert bookings_at(studio_a) == 0


def test_anonymous_is_refused(anon_a, team, studio_a):
    *_, session_type = team

    assert anon_a.post(URL, body(session_type), format="json").status_code == 401
    assert bookings_at(studio_a) == 0


def test_another_studio_can_not_book_here(as_user, team, studio_a, studio_b, client_a, client_b):
    *_, session_type = team

    # Studio B's client on B's host: A's session type is no id there.
    response = as_user(client_b, studio_b).post(URL, body(session_type), format="json")
    # A's token on B's host means nothing.
    foreign_token = api_client("bravo.localhost", token_of(client_a, studio_a)).post(
        URL, body(session_type), format="json"
    )

    assert response.status_code == 400
    assert "session_type" in response.json()["fields"]
    assert foreign_token.status_code == 401
    assert bookings_at(studio_a) == 0
    with tenant_context(studio_b):
        assert not Booking.objects.exists()


def test_off_the_grid_needs_a_named_trainer(as_user, manager_a, booking_client_a, team, studio_a):
    *_, session_type = team

    response = as_user(manager_a).post(
        URL, body(session_type, "10:20", client=booking_client_a.pk, off_grid=True), format="json"
    )

    assert response.status_code == 400
    assert "off_grid" in response.json()["fields"]
    assert bookings_at(studio_a, "10:20") == 0


@pytest.mark.parametrize("trainer", ["all", "Any", "", None, 1.5, True])
def test_trainer_is_an_id_or_the_word_any(as_user, client_a, booking_client_a, team, trainer):
    *_, session_type = team

    response = as_user(client_a).post(URL, {**body(session_type), "trainer": trainer}, format="json")

    assert response.status_code == 400
    assert "trainer" in response.json()["fields"]


def test_a_start_no_trainer_offers_is_400(as_user, client_a, booking_client_a, team):
    *_, session_type = team

    response = as_user(client_a).post(URL, body(session_type, "15:00"), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "not_a_slot"


def test_a_session_type_nobody_teaches_is_refused(as_user, client_a, booking_client_a, studio_a, team):
    with tenant_context(studio_a):
        lonely = SessionTypeFactory()

    response = as_user(client_a).post(URL, body(lonely), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "not_a_slot"


def test_the_schema_documents_any(db):
    schema = SchemaGenerator(urlconf="config.urls_tenant").get_schema(request=None, public=True)
    trainer = schema["components"]["schemas"]["BookingCreateInputRequest"]["properties"]["trainer"]
    slots_parameters = {
        parameter["name"]: parameter
        for parameter in schema["paths"]["/api/availability/available-slots/"]["get"]["parameters"]
    }

    assert {"type": "string", "enum": ["any"]} in trainer["oneOf"]
    assert {"type": "string", "enum": ["any"]} in slots_parameters["trainer"]["schema"]["oneOf"]
