"""confirmation_sent means a confirmation went (a pending request's "received" mail is not one), and an inactive
trainer or session type in a request is "not taking bookings" on its field, not "object does not exist"."""

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from tenant_apps.bookings.models import Booking
from tenant_apps.trainers.models import SessionType, Trainer
from tests.bookings.conftest import at
from tests.conftest import next_monday

pytestmark = pytest.mark.django_db
URL = "/api/bookings/"


def test_a_pending_request_has_no_confirmation_until_staff_confirm_it(
    as_user, client_a, manager_a, schedule_a, studio_a, django_capture_on_commit_callbacks
):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        SessionType.objects.filter(pk=session_type.pk).update(requires_confirmation=True)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        requested = as_user(client_a).post(
            URL, {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(next_monday(), "10:00")}
        )
    assert (requested.json()["status"], requested.json()["confirmation_sent"]) == ("pending", False)
    assert [message.subject.split(":")[0] for message in mail.outbox if message.to == [client_a.email]] == [
        "Request received"
    ]

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = as_user(manager_a).post(f"/api/bookings/{requested.json()['id']}/confirm/")

    assert (confirmed.json()["status"], confirmed.json()["confirmation_sent"]) == ("confirmed", True)
    assert [message.subject.split(":")[0] for message in mail.outbox if message.to == [client_a.email]][-1] == (
        "Booked"
    )


@pytest.mark.parametrize("who", ["client_a", "manager_a"])
def test_an_inactive_trainer_is_not_taking_bookings(request, as_user, who, schedule_a, studio_a, booking_client_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        Trainer.objects.filter(pk=trainer.pk).update(is_active=False)
    payload = {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(next_monday(), "10:00")}
    if who == "manager_a":
        payload["client"] = booking_client_a.pk

    response = as_user(request.getfixturevalue(who)).post(URL, payload)

    assert (response.status_code, response.json()["code"]) == (400, "not_taking_bookings")
    assert response.json()["fields"] == {"trainer": ["This trainer is not taking bookings."]}
    with tenant_context(studio_a):
        assert not Booking.objects.exists()


def test_an_inactive_session_type_is_no_longer_offered(as_user, client_a, schedule_a, studio_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        SessionType.objects.filter(pk=session_type.pk).update(is_active=False)

    response = as_user(client_a).post(
        URL, {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(next_monday(), "10:00")}
    )

    assert (response.status_code, response.json()["code"]) == (400, "not_taking_bookings")
    assert response.json()["fields"] == {"session_type": ["This session type is no longer offered."]}


def test_an_unknown_trainer_is_still_does_not_exist(as_user, client_a, schedule_a):
    _, session_type = schedule_a

    response = as_user(client_a).post(
        URL, {"trainer": 999999, "session_type": session_type.pk, "start_time": at(next_monday(), "10:00")}
    )

    assert response.status_code == 400
    assert "does not exist" in response.json()["fields"]["trainer"][0]
