"""POST /api/bookings/: who books what, every rule on the submit path, and nothing written on a refusal."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from tenant_apps.bookings.models import Booking, BookingEvent
from tests.conftest import next_monday
from tests.factories import ClientFactory, SessionTypeFactory, TrainerFactory, WindowFactory

pytestmark = pytest.mark.django_db
URL = "/api/bookings/"
LONDON = ZoneInfo("Europe/London")


def at(day, clock: str, zone=LONDON) -> str:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=zone).isoformat()


def count_bookings(studio) -> int:
    with tenant_context(studio):
        return Booking.objects.count()


def test_a_client_books_a_free_slot_for_themself(
    as_user, client_a, schedule_a, studio_a, django_capture_on_commit_callbacks
):
    trainer, session_type = schedule_a
    day = next_monday()

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(client_a).post(
            URL, {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(day, "10:00")}
        )

    assert response.status_code == 201, response.json()
    body = response.json()
    with tenant_context(studio_a):
        booking = Booking.objects.get()
        assert booking.client.user == client_a
        assert booking.end_time - booking.start_time == timedelta(minutes=60)
        assert list(booking.events.values_list("kind", flat=True)) == [BookingEvent.Kind.CREATED]
    assert {key: body[key] for key in ("id", "trainer", "client", "session_type", "status", "payment_state")} == {
        "id": booking.pk,
        "trainer": trainer.pk,
        "client": booking.client_id,
        "session_type": session_type.pk,
        "status": "confirmed",
        "payment_state": "unpaid",
    }
    assert (body["trainer_name"], body["client_name"], body["session_type_name"], body["session_type_color"]) == (
        "Tess Trainer",
        booking.client.full_name,
        "PT 60",
        "#2563eb",
    )
    assert body["start_time"] == booking.start_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["confirmation_sent"] is True
    [message] = [message for message in mail.outbox if message.to == [client_a.email]]
    assert "(Europe/London)" in message.body and "10:00" in message.body


def test_a_session_type_that_requires_confirmation_books_pending(as_user, client_a, schedule_a, studio_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        session_type.requires_confirmation = True
        session_type.save()

    response = as_user(client_a).post(
        URL, {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(next_monday(), "09:00")}
    )

    assert response.status_code == 201
    assert response.json()["status"] == "pending"


def test_staff_book_for_a_named_client(as_user, manager_a, schedule_a, studio_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        someone = ClientFactory()

    response = as_user(manager_a).post(
        URL,
        {
            "trainer": trainer.pk,
            "session_type": session_type.pk,
            "start_time": at(next_monday(), "11:00"),
            "client": someone.pk,
            "notes": "First session",
        },
    )

    assert response.status_code == 201
    assert response.json()["client"] == someone.pk
    assert response.json()["notes"] == "First session"


def test_staff_must_name_the_client_and_clients_may_not(as_user, manager_a, client_a, schedule_a, studio_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        other = ClientFactory()
    body = {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(next_monday(), "11:00")}

    staff = as_user(manager_a).post(URL, body)
    client = as_user(client_a).post(URL, {**body, "client": other.pk})

    assert staff.status_code == 400 and set(staff.json()["fields"]) == {"client"}
    assert client.status_code == 400 and set(client.json()["fields"]) == {"client"}
    assert count_bookings(studio_a) == 0


def test_a_trainer_books_their_own_clients_into_their_own_calendar_only(as_user, trainer_a, schedule_a, studio_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        colleague = TrainerFactory()
        WindowFactory(trainer=colleague, day_of_week=0)
        session_type.trainers.add(colleague)
        mine = ClientFactory(primary_trainer=trainer)
        stranger = ClientFactory()
    body = {"session_type": session_type.pk, "start_time": at(next_monday(), "09:00")}

    own = as_user(trainer_a).post(URL, {**body, "trainer": trainer.pk, "client": mine.pk})
    other_calendar = as_user(trainer_a).post(URL, {**body, "trainer": colleague.pk, "client": mine.pk})
    # A client the trainer doesn't train reads as unknown: booking them would open their profile to the trainer.
    other_client = as_user(trainer_a).post(
        URL, {**body, "trainer": trainer.pk, "client": stranger.pk, "start_time": at(next_monday(), "10:00")}
    )

    assert own.status_code == 201
    assert other_calendar.status_code == 403
    assert other_client.status_code == 400
    assert "does not exist" in other_client.json()["fields"]["client"][0]
    assert count_bookings(studio_a) == 1


@pytest.mark.parametrize(
    ("start", "status", "code"),
    [
        (lambda day: at(day, "10:30"), 400, "not_a_slot"),  # not on the hour
        (lambda day: at(day, "12:00"), 400, "not_a_slot"),  # the window has ended
        (lambda day: at(day, "11:30"), 400, "not_a_slot"),  # would run past the window
        (lambda day: at(day, "07:00"), 400, "not_a_slot"),  # before the window
        (lambda day: at(day - timedelta(days=30), "10:00"), 400, "start_in_past"),
        (lambda day: at(day + timedelta(days=365), "10:00"), 400, "outside_booking_window"),
        (lambda day: at(day, "10:00").replace("+01:00", "").replace("+00:00", ""), 400, "invalid"),  # no offset
        (lambda day: "tomorrow at ten", 400, "invalid"),
    ],
)
def test_times_the_trainer_does_not_offer_are_refused(as_user, client_a, schedule_a, studio_a, start, status, code):
    trainer, session_type = schedule_a

    response = as_user(client_a).post(
        URL, {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": start(next_monday())}
    )

    assert response.status_code == status, response.json()
    assert response.json()["code"] == code
    assert count_bookings(studio_a) == 0


def test_notice_is_enforced(as_user, client_a, schedule_a, studio_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        session_type.min_notice_minutes = 60 * 24 * 30
        session_type.save()

    response = as_user(client_a).post(
        URL, {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(next_monday(), "10:00")}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "outside_booking_window"


def test_a_taken_slot_and_its_buffers_are_a_409(as_user, client_a, manager_a, schedule_a, studio_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        session_type.buffer_after_minutes = 30
        session_type.slot_interval_minutes = 30
        session_type.save()
        someone = ClientFactory()
    day = next_monday()
    first = as_user(manager_a).post(
        URL,
        {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(day, "09:00"), "client": someone.pk},
    )

    same = as_user(client_a).post(
        URL, {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(day, "09:00")}
    )
    inside_buffer = as_user(client_a).post(
        URL, {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(day, "10:00")}
    )
    after_buffer = as_user(client_a).post(
        URL, {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(day, "10:30")}
    )

    assert first.status_code == 201
    assert (same.status_code, same.json()["code"]) == (409, "slot_unavailable")
    assert (inside_buffer.status_code, inside_buffer.json()["code"]) == (409, "slot_unavailable")
    assert after_buffer.status_code == 201
    assert count_bookings(studio_a) == 2


def test_a_break_blocks_its_slots(as_user, client_a, schedule_a, studio_a):
    from tenant_apps.availability.models import TrainerBreak

    trainer, session_type = schedule_a
    day = next_monday()
    with tenant_context(studio_a):
        TrainerBreak.objects.create(
            trainer=trainer,
            starts_at=datetime.fromisoformat(at(day, "10:30")),
            ends_at=datetime.fromisoformat(at(day, "11:00")),
        )

    response = as_user(client_a).post(
        URL, {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(day, "10:00")}
    )

    assert (response.status_code, response.json()["code"]) == (409, "slot_unavailable")


def test_a_trainer_who_does_not_offer_the_session_type(as_user, client_a, schedule_a, studio_a):
    trainer, _ = schedule_a
    with tenant_context(studio_a):
        other_type = SessionTypeFactory(name="Yoga")

    response = as_user(client_a).post(
        URL, {"trainer": trainer.pk, "session_type": other_type.pk, "start_time": at(next_monday(), "10:00")}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "session_type_not_offered"
    assert count_bookings(studio_a) == 0


def test_inactive_trainer_or_session_type_is_refused(as_user, client_a, schedule_a, studio_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        trainer.is_active = False
        trainer.save()

    response = as_user(client_a).post(
        URL, {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(next_monday(), "10:00")}
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"trainer"}


def test_unknown_ids_and_missing_fields(as_user, client_a, schedule_a):
    _, session_type = schedule_a

    unknown = as_user(client_a).post(URL, {"trainer": 999999, "session_type": session_type.pk, "start_time": "x"})
    missing = as_user(client_a).post(URL, {})

    assert unknown.status_code == 400
    assert set(unknown.json()["fields"]) == {"trainer", "start_time"}
    assert set(missing.json()["fields"]) == {"trainer", "session_type", "start_time"}


def test_a_trainer_in_another_zone_than_the_studio(as_user, client_a, studio_a):
    """Windows are the trainer's wall-clock time: a New York trainer at a London studio works New York hours."""
    new_york = ZoneInfo("America/New_York")
    with tenant_context(studio_a):
        trainer = TrainerFactory(timezone="America/New_York")
        WindowFactory(trainer=trainer, day_of_week=0, start_time="06:00", end_time="08:00")
        session_type = SessionTypeFactory(trainers=[trainer])
    day = next_monday()

    response = as_user(client_a).post(
        URL, {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(day, "06:00", new_york)}
    )
    london_six = as_user(client_a).post(
        URL, {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(day, "07:00", LONDON)}
    )

    assert response.status_code == 201
    assert london_six.status_code == 400


def test_anonymous_users_and_other_studios_cannot_book(anon_a, as_user, schedule_a, studio_a, studio_b):
    from tests.conftest import make_user

    trainer, session_type = schedule_a
    body = {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(next_monday(), "10:00")}
    client_b = make_user(studio_b, email="someone@bravo.test")

    anonymous = anon_a.post(URL, body)
    # Studio B has no such trainer: the ids of studio A mean nothing there.
    other_studio = as_user(client_b, studio_b).post(URL, body)

    assert anonymous.status_code == 401
    assert other_studio.status_code == 400
    assert set(other_studio.json()["fields"]) >= {"trainer", "session_type"}
    assert count_bookings(studio_a) == 0
