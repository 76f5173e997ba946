from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import tenant_context

from tenant_apps.bookings import services
from tenant_apps.clients.models import Client
from tests.conftest import make_user, next_monday
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
URL = "/api/clients/"


def test_a_manager_adds_a_client(as_user, manager_a, studio_a):
    response = as_user(manager_a).post(URL, {"email": "Dee@Example.com", "first_name": "Dee", "phone": "07700 900123"})

    assert response.status_code == 400  # 07700 900xxx is reserved for drama: no one has such a number
    response = as_user(manager_a).post(URL, {"email": "Dee@Example.com", "first_name": "Dee", "phone": "+442079460958"})
    assert response.status_code == 201
    assert response.json()["email"] == "dee@example.com"
    assert response.json()["phone"] == "+442079460958"


def test_an_email_already_known_in_any_case_is_refused(as_user, manager_a, studio_a):
    with tenant_context(studio_a):
        ClientFactory(email="dee@example.com")

    response = as_user(manager_a).post(URL, {"email": "DEE@example.com", "first_name": "Dee"})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"email"}
    with tenant_context(studio_a):
        assert Client.objects.count() == 1


def test_a_trainer_sees_only_the_clients_who_booked_them(as_user, trainer_a, schedule_a, studio_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        theirs = ClientFactory()
        ClientFactory()
        services.booking_create(
            trainer=trainer,
            client=theirs,
            session_type=session_type,
            start_time=datetime.combine(next_monday(), time(9), tzinfo=ZoneInfo("Europe/London")),
        )

    listing = as_user(trainer_a).get(URL).json()["results"]
    create = as_user(trainer_a).post(URL, {"email": "x@example.com", "first_name": "X"})

    assert [client["id"] for client in listing] == [theirs.pk]
    assert as_user(trainer_a).get(f"{URL}{theirs.pk}/").status_code == 200
    assert create.status_code == 403


def test_clients_anonymous_and_other_studios_are_refused(as_user, anon_a, client_a, studio_a, studio_b):
    with tenant_context(studio_a):
        someone = ClientFactory(pk=8501)
    owner_b = make_user(studio_b, role="owner", email="boss@bravo.test")

    assert as_user(client_a).get(URL).status_code == 403
    assert as_user(client_a).get(f"{URL}{someone.pk}/").status_code == 403
    assert anon_a.get(URL).status_code == 401
    assert as_user(owner_b, studio_b).get(f"{URL}{someone.pk}/").status_code == 404


def test_relations_are_named_by_their_model_and_hold_its_id(as_user, manager_a, booking_client_a, schedule_a):
    trainer, _ = schedule_a

    response = as_user(manager_a).patch(f"{URL}{booking_client_a.pk}/", {"primary_trainer": trainer.pk})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["primary_trainer"], body["primary_trainer_name"]) == (trainer.pk, "Tess Trainer")
    assert body["user"] == booking_client_a.user_id
    assert not [name for name in body if name.endswith(("_id", "_ids"))]
