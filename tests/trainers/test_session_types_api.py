from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from tenant_apps.trainers.models import SessionType
from tests.conftest import make_user
from tests.factories import SessionTypeFactory, TrainerFactory

pytestmark = pytest.mark.django_db
URL = "/api/session-types/"


def test_a_manager_creates_a_session_type_offered_by_trainers(as_user, manager_a, studio_a):
    with tenant_context(studio_a):
        trainer = TrainerFactory()

    response = as_user(manager_a).post(
        URL,
        {
            "name": "PT 45",
            "duration_minutes": 45,
            "slot_interval_minutes": 15,
            "price": "35.50",
            "buffer_after_minutes": 15,
            "trainers": [trainer.pk],
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["trainers"] == [trainer.pk]
    assert body["currency"] == "USD"  # the studio's currency by default
    with tenant_context(studio_a):
        assert SessionType.objects.get(pk=body["id"]).price == Decimal("35.50")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 2000}, "duration_minutes"),
        ({"price": "-1"}, "price"),
        ({"price": "1.234"}, "price"),
        ({"currency": "euro"}, "currency"),
        ({"max_advance_days": 0}, "max_advance_days"),
        ({"buffer_before_minutes": -5}, "buffer_before_minutes"),
        ({"trainers": [999999]}, "trainers"),
    ],
)
def test_bad_input_creates_nothing(as_user, owner_a, studio_a, change, field):
    response = as_user(owner_a).post(URL, {"name": "Bad", "duration_minutes": 60, **change})

    assert response.status_code == 400
    assert field in response.json()["fields"]
    with tenant_context(studio_a):
        assert SessionType.objects.count() == 0


def test_patch_and_delete_deactivates(as_user, owner_a, anon_a, studio_a):
    with tenant_context(studio_a):
        session_type = SessionTypeFactory()

    patched = as_user(owner_a).patch(f"{URL}{session_type.pk}/", {"price": "50.00", "requires_confirmation": True})
    deleted = as_user(owner_a).delete(f"{URL}{session_type.pk}/")

    assert patched.json()["price"] == "50.00" and patched.json()["requires_confirmation"] is True
    assert deleted.json()["is_active"] is False
    assert anon_a.get(f"{URL}{session_type.pk}/").status_code == 404
    assert session_type.pk in {s["id"] for s in as_user(owner_a).get(URL).json()["results"]}


def test_anyone_reads_active_session_types_but_only_managers_write(anon_a, as_user, trainer_a, client_a, studio_a):
    with tenant_context(studio_a):
        session_type = SessionTypeFactory(name="Open Gym")

    assert [s["name"] for s in anon_a.get(URL).json()["results"]] == ["Open Gym"]
    assert anon_a.post(URL, {"name": "x", "duration_minutes": 30}).status_code == 401
    assert as_user(trainer_a).post(URL, {"name": "x", "duration_minutes": 30}).status_code == 403
    assert as_user(client_a).patch(f"{URL}{session_type.pk}/", {"price": "1"}).status_code == 403
    assert as_user(client_a).delete(f"{URL}{session_type.pk}/").status_code == 403


def test_another_studio_neither_sees_nor_edits(as_user, studio_a, studio_b):
    with tenant_context(studio_a):
        session_type = SessionTypeFactory(pk=8201, name="Only In A")
    owner_b = make_user(studio_b, role="owner", email="boss@bravo.test")

    assert as_user(owner_b, studio_b).patch(f"{URL}{session_type.pk}/", {"price": "1"}).status_code == 404
    assert "Only In A" not in str(as_user(owner_b, studio_b).get(URL).json())


def test_a_manager_sets_the_fee_policy_and_colour_of_a_session_type(as_user, manager_a, studio_a):
    """A lenient studio: a late cancellation and a no-show give the credit back, for this type only."""
    with tenant_context(studio_a):
        session_type = SessionTypeFactory()

    response = as_user(manager_a).patch(
        f"{URL}{session_type.pk}/",
        {"late_cancel_forfeits_credit": False, "no_show_forfeits_credit": False, "color": "#0f766e"},
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["late_cancel_forfeits_credit"], body["no_show_forfeits_credit"], body["color"]) == (
        False,
        False,
        "#0f766e",
    )
    with tenant_context(studio_a):
        session_type.refresh_from_db()
        assert not session_type.late_cancel_forfeits_credit
        assert not session_type.no_show_forfeits_credit


def test_a_session_type_colour_must_be_a_hex_colour(as_user, manager_a, studio_a):
    with tenant_context(studio_a):
        session_type = SessionTypeFactory()

    response = as_user(manager_a).patch(f"{URL}{session_type.pk}/", {"color": "red; background: url(x)"})

    assert response.status_code == 400
    assert "color" in response.json()["fields"]


def test_new_session_types_forfeit_credits_by_default(as_user, manager_a):
    response = as_user(manager_a).post(URL, {"name": "PT 30", "duration_minutes": 30})

    assert response.status_code == 201, response.json()
    assert response.json()["late_cancel_forfeits_credit"] is True
    assert response.json()["no_show_forfeits_credit"] is True
