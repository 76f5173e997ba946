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
from tenant_apps.trainers.models import Trainer
from tests.bookings.conftest import at, ledger, sell
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
