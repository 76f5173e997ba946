"""The client book: search, filters, ordering, edits, deactivation, erasure, notes and the timeline."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import tenant_context

from tenant_apps.bookings import services as booking_services
from tenant_apps.clients.models import Client, ClientNote
from tests.conftest import make_user, next_monday
from tests.factories import ClientFactory, TrainerFactory

pytestmark = pytest.mark.django_db
URL = "/api/clients/"


def names(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [client["first_name"] for client in response.json()["results"]]


@pytest.fixture
def book(studio_a):
    with tenant_context(studio_a):
        return {
            "ada": ClientFactory(first_name="Ada", last_name="Lovelace", email="ada@math.test", phone="+442079460958",
                                 fitness_level="advanced", tags=["vip", "morning"]),
            "bob": ClientFactory(first_name="Bob", last_name="Stone", email="bob@rock.test", fitness_level="beginner",
                                 tags=["morning"]),
            "cy": ClientFactory(first_name="Cy", last_name="Young", email="cy@ball.test", is_active=False),
        }  # fmt: skip


def test_search_by_name_email_or_phone(as_user, manager_a, book):
    api = as_user(manager_a)

    assert names(api.get(URL, {"search": "love"})) == ["Ada"]
    assert names(api.get(URL, {"search": "ROCK.test"})) == ["Bob"]
    assert names(api.get(URL, {"search": "020 7946 0958"})) == ["Ada"]
    assert names(api.get(URL, {"search": "ada lovelace"})) == ["Ada"]
    assert names(api.get(URL, {"search": "nobody"})) == []


def test_filters_and_ordering(as_user, manager_a, book, studio_a):
    api = as_user(manager_a)

    assert names(api.get(URL, {"fitness_level": "beginner"})) == ["Bob"]
    assert names(api.get(URL, {"is_active": "false"})) == ["Cy"]
    assert sorted(names(api.get(URL, {"tag": "morning"}))) == ["Ada", "Bob"]
    assert names(api.get(URL, {"ordering": "-first_name"})) == ["Cy", "Bob", "Ada"]
    assert names(api.get(URL, {"created_after": "2200-01-01T00:00:00Z"})) == []
    bad = api.get(URL, {"fitness_level": "olympian", "ordering": "password"})
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"fitness_level", "ordering"}


def test_filter_by_trainer_covers_primary_trainer_and_bookings(as_user, manager_a, book, schedule_a, studio_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        book["ada"].primary_trainer = trainer
        book["ada"].save()
        booking_services.booking_create(
            trainer=trainer,
            client=book["bob"],
            session_type=session_type,
            start_time=datetime.combine(next_monday(), time(9), tzinfo=ZoneInfo("Europe/London")),
        )

    assert sorted(names(as_user(manager_a).get(URL, {"trainer": trainer.pk}))) == ["Ada", "Bob"]


def test_a_trainer_sees_their_clients_only(as_user, trainer_a, book, studio_a):
    with tenant_context(studio_a):
        me = TrainerFactory(user=trainer_a)
        book["cy"].primary_trainer = me
        book["cy"].save()

    assert names(as_user(trainer_a).get(URL)) == ["Cy"]
    assert as_user(trainer_a).get(f"{URL}{book['ada'].pk}/").status_code == 404
    assert as_user(trainer_a).patch(f"{URL}{book['cy'].pk}/", {"notes": "x"}).status_code == 403


def test_patch_validates_and_delete_deactivates(as_user, manager_a, book, studio_a):
    api = as_user(manager_a)

    patched = api.patch(f"{URL}{book['bob'].pk}/", {"goals": ["5k run"], "tags": ["evening"], "phone": "+14155552671"})
    bad = api.patch(f"{URL}{book['bob'].pk}/", {"phone": "12", "fitness_level": "pro", "email": "ada@math.test"})
    deleted = api.delete(f"{URL}{book['bob'].pk}/")

    assert patched.json()["goals"] == ["5k run"] and patched.json()["phone"] == "+14155552671"
    assert bad.status_code == 400 and set(bad.json()["fields"]) >= {"phone", "fitness_level"}
    assert deleted.json()["is_active"] is False
    with tenant_context(studio_a):
        assert Client.objects.filter(pk=book["bob"].pk).exists()


def test_an_email_taken_by_another_client_is_refused(as_user, manager_a, book):
    response = as_user(manager_a).patch(f"{URL}{book['bob'].pk}/", {"email": "ADA@math.test"})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"email"}


def test_erase_removes_personal_data_but_keeps_bookings_countable(
    as_user, owner_a, manager_a, client_a, booking_client_a, schedule_a, studio_a
):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        booking = booking_services.booking_create(
            trainer=trainer,
            client=booking_client_a,
            session_type=session_type,
            notes="Knee injury",
            start_time=datetime.combine(next_monday(), time(9), tzinfo=ZoneInfo("Europe/London")),
        )
        ClientNote.objects.create(client=booking_client_a, author=owner_a, text="Called about her knee")

    refused = as_user(manager_a).post(f"{URL}{booking_client_a.pk}/erase/")
    erased = as_user(owner_a).post(f"{URL}{booking_client_a.pk}/erase/")

    assert refused.status_code == 403
    assert erased.status_code == 200
    body = erased.json()
    assert body["email"] == f"erased-{booking_client_a.pk}@erased.invalid"
    assert (body["first_name"], body["last_name"], body["phone"], body["is_active"]) == ("Erased", "", "", False)
    assert body["erased_at"]
    with tenant_context(studio_a):
        booking.refresh_from_db()
        client_a.refresh_from_db()
        assert booking.client_id == booking_client_a.pk and booking.notes == ""
        assert not ClientNote.objects.filter(client=booking_client_a).exists()
        assert "alpha.test" not in client_a.email and not client_a.is_active
        assert not client_a.has_usable_password()
    # Erased data stays erased: the record can't be edited back.
    assert as_user(owner_a).patch(f"{URL}{booking_client_a.pk}/", {"first_name": "Ada"}).status_code == 400


def test_notes_and_timeline(as_user, manager_a, trainer_a, booking_client_a, schedule_a, studio_a):
    trainer, session_type = schedule_a
    api = as_user(manager_a)
    first = api.post(f"{URL}{booking_client_a.pk}/notes/", {"text": "Prefers mornings"})
    with tenant_context(studio_a):
        booking = booking_services.booking_create(
            trainer=trainer,
            client=booking_client_a,
            session_type=session_type,
            start_time=datetime.combine(next_monday(), time(10), tzinfo=ZoneInfo("Europe/London")),
        )
        booking_services.booking_cancel(booking=booking, actor=trainer_a, reason="Ill")
    second = api.post(f"{URL}{booking_client_a.pk}/notes/", {"text": "Rebook next week"})
    empty = api.post(f"{URL}{booking_client_a.pk}/notes/", {"text": "   "})

    notes = api.get(f"{URL}{booking_client_a.pk}/notes/").json()["results"]
    timeline = api.get(f"{URL}{booking_client_a.pk}/timeline/").json()

    assert first.status_code == second.status_code == 201
    assert empty.status_code == 400
    assert [note["text"] for note in notes] == ["Rebook next week", "Prefers mornings"]
    assert (notes[0]["author"], notes[0]["author_name"]) == (manager_a.pk, manager_a.get_full_name())
    assert [(entry["kind"], entry.get("event")) for entry in timeline] == [
        ("note", None),
        ("booking", "cancelled"),
        ("booking", "created"),
        ("note", None),
    ]
    cancelled = timeline[1]
    assert (cancelled["booking"], cancelled["session_type"], cancelled["session_type_name"]) == (
        booking.pk,
        session_type.pk,
        "PT 60",
    )
    assert (timeline[0]["author"], timeline[0]["author_name"]) == (manager_a.pk, manager_a.get_full_name())


def test_clients_anonymous_and_other_studios_are_refused(as_user, anon_a, client_a, studio_a, studio_b):
    with tenant_context(studio_a):
        someone = ClientFactory(pk=8601)
    owner_b = make_user(studio_b, role="owner", email="boss@bravo.test")

    for path in ("", "notes/", "timeline/"):
        assert as_user(client_a).get(f"{URL}{someone.pk}/{path}").status_code == 403
        assert anon_a.get(f"{URL}{someone.pk}/{path}").status_code == 401
        assert as_user(owner_b, studio_b).get(f"{URL}{someone.pk}/{path}").status_code == 404
    assert as_user(owner_b, studio_b).post(f"{URL}{someone.pk}/erase/").status_code == 404
    with tenant_context(studio_a):
        assert Client.objects.get(pk=someone.pk).erased_at is None


def test_a_sign_up_gets_a_known_clients_record_only_after_confirming_the_address(
    anon_a, studio_a, schedule_a, django_capture_on_commit_callbacks
):
    import re

    from django.core import mail

    from tests.conftest import api_client

    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        known = ClientFactory(email="walk.in@example.com", first_name="Walk", last_name="In")

    with django_capture_on_commit_callbacks(execute=True):
        signed_up = anon_a.post(
            "/api/users/register/",
            {"email": "Walk.In@Example.com", "password": "Sunny-Squat-77", "first_name": "W", "last_name": "I"},
        )
    token = signed_up.json()["token"]
    booking = api_client("alpha.localhost", token).post(
        "/api/bookings/",
        {
            "trainer": trainer.pk,
            "session_type": session_type.pk,
            "start_time": datetime.combine(next_monday(), time(9), tzinfo=ZoneInfo("Europe/London")).isoformat(),
        },
    )

    # Not yet: anyone can type someone else's address into a sign-up form.
    with tenant_context(studio_a):
        known.refresh_from_db()
        assert known.user is None
    assert (booking.status_code, booking.json()["code"]) == (403, "email_not_verified")

    link = re.search(r"http://alpha\.localhost(/accounts/confirm-email/\S+/)", mail.outbox[-1].body)
    assert link, mail.outbox[-1].body
    api_client("alpha.localhost").post(link.group(1))

    with tenant_context(studio_a):
        known.refresh_from_db()
        assert known.user.email == "walk.in@example.com"
        assert known.first_name == "Walk"  # the studio's record is kept as it was


def test_a_sign_up_with_a_new_address_gets_its_record_at_once(anon_a, studio_a):
    anon_a.post(
        "/api/users/register/",
        {"email": "new@example.com", "password": "Sunny-Squat-77", "first_name": "New", "last_name": "Comer"},
    )

    with tenant_context(studio_a):
        assert Client.objects.get(email="new@example.com").user.first_name == "New"


def test_a_trainer_sees_only_their_own_sessions_in_a_clients_timeline(
    as_user, manager_a, trainer_a, booking_client_a, schedule_a, studio_a
):
    from tests.factories import WindowFactory

    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        colleague = TrainerFactory()
        WindowFactory(trainer=colleague, day_of_week=0, start_time="14:00", end_time="16:00")
        session_type.trainers.add(colleague)
        start = datetime.combine(next_monday(), time(9), tzinfo=ZoneInfo("Europe/London"))
        booking_services.booking_create(
            trainer=trainer, client=booking_client_a, session_type=session_type, start_time=start
        )
        theirs = booking_services.booking_create(
            trainer=colleague, client=booking_client_a, session_type=session_type, start_time=start.replace(hour=14)
        )
        booking_services.booking_cancel(booking=theirs, actor=manager_a, reason="Private family matter")

    for_trainer = as_user(trainer_a).get(f"{URL}{booking_client_a.pk}/timeline/").json()
    for_manager = as_user(manager_a).get(f"{URL}{booking_client_a.pk}/timeline/").json()

    assert any(entry["kind"] == "booking" for entry in for_trainer)  # their own session is there
    assert theirs.pk not in {entry.get("booking") for entry in for_trainer}
    assert "Private family matter" not in str(for_trainer)
    assert theirs.pk in {entry.get("booking") for entry in for_manager}


def test_erasure_also_clears_free_text_in_booking_history(as_user, owner_a, booking_client_a, schedule_a, studio_a):
    from tenant_apps.bookings.models import Booking, BookingEvent

    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        booking = booking_services.booking_create(
            trainer=trainer,
            client=booking_client_a,
            session_type=session_type,
            start_time=datetime.combine(next_monday(), time(9), tzinfo=ZoneInfo("Europe/London")),
        )
        booking_services.booking_cancel(booking=booking, actor=owner_a, reason="Pregnancy, doctor's advice")

    as_user(owner_a).post(f"{URL}{booking_client_a.pk}/erase/")

    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).cancellation_reason == ""
        assert not BookingEvent.objects.filter(booking=booking).exclude(note="").exists()
        assert BookingEvent.objects.filter(booking=booking).count() == 2  # the history itself stays countable
