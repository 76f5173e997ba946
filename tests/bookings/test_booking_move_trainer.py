"""A booking moves to another trainer who offers its session type and is free then, checked like a reschedule;
both trainers are locked in id order. The staff-deactivation flow calls exactly
booking_reschedule(booking=..., start_time=booking.start_time, trainer=other, actor=...)."""

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from shared_apps.core.exceptions import ApplicationError
from tenant_apps.availability.selectors import SessionTypeNotOffered
from tenant_apps.bookings import services
from tenant_apps.bookings.models import Booking
from tenant_apps.trainers.models import SessionType, Trainer
from tests.bookings.conftest import STAFF_MATRIX, at, ledger, sell
from tests.conftest import next_monday
from tests.factories import ClientFactory, SessionTypeFactory, TrainerFactory

pytestmark = pytest.mark.django_db


def test_the_deactivation_flow_moves_a_booking_to_a_free_colleague_at_the_same_time(
    studio_a, make_booking, colleague_a, owner_a, booking_client_a, django_capture_on_commit_callbacks
):
    with tenant_context(studio_a):
        pack = sell(booking_client_a)
    booking = make_booking(client_package=pack)
    mail.outbox.clear()

    with tenant_context(studio_a), django_capture_on_commit_callbacks(execute=True):
        moved = services.booking_reschedule(
            booking=booking, start_time=booking.start_time, trainer=colleague_a, actor=owner_a
        )
        event = moved.events.last()

    assert (moved.trainer_id, moved.start_time, moved.client_package_id) == (
        colleague_a.pk,
        booking.start_time,
        pack.pk,
    )
    assert (event.kind, event.previous_trainer_id, event.new_trainer_id) == (
        "rescheduled",
        booking.trainer_id,
        colleague_a.pk,
    )
    assert ledger(studio_a, pack)[0] == 9  # the credit moves with it
    assert "now with Colin Coach (instead of Tess Trainer)" in mail.outbox[-1].body


def test_a_colleague_who_is_busy_then_is_409_and_nothing_moves(studio_a, make_booking, colleague_a, owner_a):
    booking = make_booking()
    with tenant_context(studio_a):
        someone = ClientFactory()
    make_booking(trainer=colleague_a, client=someone)

    with tenant_context(studio_a), pytest.raises(services.SlotUnavailable):
        services.booking_reschedule(booking=booking, start_time=booking.start_time, trainer=colleague_a, actor=owner_a)
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).trainer_id == booking.trainer_id


def test_a_colleague_who_does_not_offer_the_session_type_is_refused(studio_a, make_booking, owner_a):
    booking = make_booking()
    with tenant_context(studio_a):
        stranger = TrainerFactory(display_name="Yogi")
        SessionTypeFactory(name="Yoga", trainers=[stranger])
        with pytest.raises(SessionTypeNotOffered):
            services.booking_reschedule(booking=booking, start_time=booking.start_time, trainer=stranger, actor=owner_a)


def test_an_inactive_colleague_is_not_taking_bookings(studio_a, make_booking, colleague_a, owner_a, as_user):
    booking = make_booking()
    with tenant_context(studio_a):
        Trainer.objects.filter(pk=colleague_a.pk).update(is_active=False)

    response = as_user(owner_a).post(
        f"/api/bookings/{booking.pk}/reschedule/",
        {"start_time": booking.start_time.isoformat(), "trainer": colleague_a.pk},
    )

    assert (response.status_code, response.json()["code"]) == (400, "not_taking_bookings")
    assert response.json()["fields"]["trainer"] == ["This trainer is not taking bookings."]


def test_moving_to_the_same_trainer_and_time_is_400(studio_a, make_booking, schedule_a, owner_a):
    booking = make_booking()
    with tenant_context(studio_a), pytest.raises(ApplicationError) as refusal:
        services.booking_reschedule(
            booking=booking, start_time=booking.start_time, trainer=schedule_a[0], actor=owner_a
        )

    assert "start_time" in refusal.value.fields


def test_a_move_to_another_trainer_and_time_through_the_api(as_user, manager_a, make_booking, colleague_a):
    booking = make_booking()
    new_start = at(next_monday(), "11:00")

    response = as_user(manager_a).post(
        f"/api/bookings/{booking.pk}/reschedule/", {"start_time": new_start.isoformat(), "trainer": colleague_a.pk}
    )
    history = as_user(manager_a).get(f"/api/bookings/{booking.pk}/history/").json()

    assert response.status_code == 200, response.json()
    assert (response.json()["trainer"], response.json()["trainer_name"]) == (colleague_a.pk, "Colin Coach")
    assert (history[-1]["previous_trainer"], history[-1]["new_trainer"]) == (booking.trainer_id, colleague_a.pk)


# -- who may move a booking to which trainer (the service's rule, so the API, the handover and the desk agree) --

# Moving Tess's booking to Colin: staff who manage the studio only. Tess keeps her bookings in her own calendar;
# Colin (trainer_other) can't see hers; Cleo moves hers to another time with Tess only.
MOVE_MATRIX = {**STAFF_MATRIX, "trainer_own": 403, "client_own": 403}
MOVE_REFUSALS = {"trainer_own": "own_calendar_only", "client_own": "trainer_change_staff_only"}


@pytest.mark.parametrize("caller", sorted(MOVE_MATRIX))
def test_move_to_another_trainer_permission_matrix(callers, caller, studio_a, make_booking, colleague_a):
    booking = make_booking()

    response = callers[caller].post(
        f"/api/bookings/{booking.pk}/reschedule/",
        {"start_time": at(next_monday(), "11:00").isoformat(), "trainer": colleague_a.pk},
    )

    assert response.status_code == MOVE_MATRIX[caller], response.content
    if caller in MOVE_REFUSALS:
        assert response.json()["code"] == MOVE_REFUSALS[caller]
    with tenant_context(studio_a):
        moved = Booking.objects.get(pk=booking.pk)
    expected = (
        (colleague_a.pk, at(next_monday(), "11:00"))
        if response.status_code == 200
        else (
            booking.trainer_id,
            booking.start_time,
        )
    )
    assert (moved.trainer_id, moved.start_time) == expected


def test_a_trainer_cannot_move_their_booking_off_the_grid_into_a_colleague_s_calendar(
    as_user, trainer_a, make_booking, colleague_a, studio_a
):
    """14:20 is outside Colin's hours: off the grid, only that he is free would be checked."""
    booking = make_booking()

    response = as_user(trainer_a).post(
        f"/api/bookings/{booking.pk}/reschedule/",
        {"start_time": at(next_monday(), "14:20").isoformat(), "trainer": colleague_a.pk, "off_grid": True},
    )

    assert (response.status_code, response.json()["code"]) == (403, "own_calendar_only")
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).trainer_id == booking.trainer_id


def test_a_trainer_can_still_move_their_own_booking_off_the_grid(as_user, trainer_a, make_booking):
    booking = make_booking()

    response = as_user(trainer_a).post(
        f"/api/bookings/{booking.pk}/reschedule/",
        {"start_time": at(next_monday(), "14:20").isoformat(), "off_grid": True},
    )

    assert response.status_code == 200, response.json()
    assert response.json()["trainer"] == booking.trainer_id


def test_the_services_refuse_a_trainer_another_trainer_s_calendar(
    studio_a, schedule_a, make_booking, colleague_a, booking_client_a
):
    """Whatever page or endpoint calls them: the rule is the services', not only the API views'."""
    trainer, session_type = schedule_a
    booking = make_booking(trainer=colleague_a)
    with tenant_context(studio_a):
        with pytest.raises(services.OwnCalendarOnly):
            services.booking_create(
                trainer=trainer,
                client=booking_client_a,
                session_type=session_type,
                start_time=at(next_monday(), "11:00"),
                created_by=colleague_a.user,
            )
        with pytest.raises(services.OwnCalendarOnly):
            services.booking_reschedule(
                booking=booking, start_time=at(next_monday(), "11:00"), trainer=trainer, actor=colleague_a.user
            )
        assert Booking.objects.filter(trainer=trainer).count() == 0


def test_a_client_moves_their_booking_to_another_time_with_the_same_trainer_only(
    studio_a, make_booking, colleague_a, client_a, schedule_a
):
    booking = make_booking()
    with tenant_context(studio_a):
        with pytest.raises(services.TrainerChangeStaffOnly) as refusal:
            services.booking_reschedule(
                booking=booking, start_time=at(next_monday(), "11:00"), trainer=colleague_a, actor=client_a
            )
        same_trainer = services.booking_reschedule(
            booking=booking, start_time=at(next_monday(), "11:00"), trainer=schedule_a[0], actor=client_a
        )

    assert refusal.value.status_code == 403 and "trainer" in refusal.value.fields
    assert (same_trainer.trainer_id, same_trainer.start_time) == (schedule_a[0].pk, at(next_monday(), "11:00"))


# -- every move checks that the trainer and the session type still take bookings ------------------------------


def test_a_client_cannot_move_a_booking_of_a_trainer_who_stopped_taking_bookings(
    as_user, client_a, make_booking, studio_a, schedule_a
):
    booking = make_booking()
    with tenant_context(studio_a):
        Trainer.objects.filter(pk=schedule_a[0].pk).update(is_active=False)

    response = as_user(client_a).post(
        f"/api/bookings/{booking.pk}/reschedule/", {"start_time": at(next_monday(), "11:00").isoformat()}
    )

    assert (response.status_code, response.json()["code"]) == (400, "not_taking_bookings")
    assert "trainer" in response.json()["fields"]
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).start_time == booking.start_time


def test_a_booking_of_a_session_type_no_longer_offered_does_not_move_to_another_time(
    as_user, manager_a, make_booking, studio_a, schedule_a
):
    booking = make_booking()
    with tenant_context(studio_a):
        SessionType.objects.filter(pk=schedule_a[1].pk).update(is_active=False)

    response = as_user(manager_a).post(
        f"/api/bookings/{booking.pk}/reschedule/", {"start_time": at(next_monday(), "11:00").isoformat()}
    )

    assert (response.status_code, response.json()["code"]) == (400, "not_taking_bookings")
    assert "session_type" in response.json()["fields"]


def test_a_trainer_who_no_longer_offers_the_session_type_keeps_no_moved_booking(studio_a, make_booking, schedule_a):
    trainer, session_type = schedule_a
    booking = make_booking()
    with tenant_context(studio_a):
        session_type.trainers.remove(trainer)
        with pytest.raises(SessionTypeNotOffered):
            services.booking_reschedule(booking=booking, start_time=at(next_monday(), "11:00"), actor=None)


def test_staff_still_move_a_booking_of_an_inactive_trainer_to_another_trainer(
    studio_a, make_booking, schedule_a, colleague_a, owner_a
):
    booking = make_booking()
    with tenant_context(studio_a):
        Trainer.objects.filter(pk=schedule_a[0].pk).update(is_active=False)
        moved = services.booking_reschedule(
            booking=booking, start_time=booking.start_time, trainer=colleague_a, actor=owner_a
        )

    assert (moved.trainer_id, moved.start_time) == (colleague_a.pk, booking.start_time)
