"""Staff have a lifecycle: invited (a trainer with their profile), deactivated and reactivated, their role changed.

Deactivating is POST /api/staff/{id}/deactivate/ (routed by the bookings app, which hands over future bookings:
see tests/bookings/test_handover.py); reactivating POST /api/staff/{id}/reactivate/; the role PATCH /api/staff/{id}/.
"""

import pytest
from django.core import mail
from django.test import Client as Browser
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from shared_apps.accounts import services
from shared_apps.accounts.models import Role, User
from shared_apps.core.exceptions import Forbidden
from tenant_apps.trainers.models import Trainer
from tests.conftest import api_client, host_of, make_user, token_of
from tests.factories import PASSWORD, TrainerFactory, UserFactory

pytestmark = pytest.mark.django_db
STAFF = "/api/staff/"


def deactivate_url(user) -> str:
    return f"{STAFF}{user.pk}/deactivate/"


def reactivate_url(user) -> str:
    return f"{STAFF}{user.pk}/reactivate/"


def login(host: str, email: str, password: str = PASSWORD):
    return api_client(host).post("/api/users/login/", {"email": email, "password": password}, format="json")


# -- invitation ------------------------------------------------------------------------------------------------


def test_a_trainer_invited_as_staff_gets_a_profile_and_can_be_booked(as_user, anon_a, owner_a, studio_a):
    body = {"email": "kim@alpha.test", "first_name": "Kim", "last_name": "Lee", "role": "trainer"}

    response = as_user(owner_a).post(STAFF, body, format="json")

    assert response.status_code == 201, response.json()
    with tenant_context(studio_a):
        trainer = Trainer.objects.get(user__email="kim@alpha.test")
    assert response.json()["trainer"] == trainer.pk
    assert response.json()["is_active"] is True
    assert (trainer.display_name, trainer.timezone, trainer.is_active) == ("Kim Lee", "Europe/London", True)
    assert [row["id"] for row in anon_a.get("/api/trainers/").json()["results"]] == [trainer.pk]


def test_a_manager_invited_as_staff_gets_no_profile(as_user, owner_a, studio_a):
    body = {"email": "max@alpha.test", "first_name": "Max", "last_name": "Moe", "role": "manager"}

    response = as_user(owner_a).post(STAFF, body, format="json")

    assert response.status_code == 201
    assert response.json()["trainer"] is None
    with tenant_context(studio_a):
        assert not Trainer.objects.exists()


def test_the_staff_list_says_who_is_active_and_who_teaches(as_user, owner_a, manager_a, trainer_a, studio_a):
    with tenant_context(studio_a):
        profile = TrainerFactory(user=trainer_a)
        services.staff_deactivate(user=manager_a, actor=owner_a)

    rows = {row["email"]: row for row in as_user(owner_a).get(STAFF).json()["results"]}

    assert (rows[trainer_a.email]["is_active"], rows[trainer_a.email]["trainer"]) == (True, profile.pk)
    assert (rows[manager_a.email]["is_active"], rows[manager_a.email]["trainer"]) == (False, None)


def test_the_staff_list_costs_a_fixed_number_of_queries(as_user, owner_a, studio_a, django_assert_max_num_queries):
    api = as_user(owner_a)
    with tenant_context(studio_a):
        TrainerFactory()
    api.get(STAFF)
    with django_assert_max_num_queries(12) as few:
        api.get(STAFF)
    with tenant_context(studio_a):
        for _ in range(20):
            TrainerFactory()
            UserFactory(role=Role.MANAGER)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api.get(STAFF).json()["results"]) == 42


# -- deactivation ends access --------------------------------------------------------------------------------


def test_a_deactivated_trainer_loses_their_token_and_can_no_longer_log_in(
    as_user, owner_a, trainer_a, booking_client_a, studio_a
):
    with tenant_context(studio_a):
        profile = TrainerFactory(user=trainer_a)
    trainer_api = as_user(trainer_a)
    assert trainer_api.get("/api/clients/").status_code == 200

    response = as_user(owner_a).post(deactivate_url(trainer_a), {}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["user"]["is_active"] is False
    refused = trainer_api.get("/api/clients/")
    assert refused.status_code == 401
    assert booking_client_a.email not in str(refused.json())
    relogin = login(host_of(studio_a), trainer_a.email)
    assert relogin.status_code == 400
    assert relogin.json()["code"] == "invalid_credentials"
    with tenant_context(studio_a):
        assert not Token.objects.filter(user=trainer_a).exists()
        # Nothing is deleted: the account and the profile stay, the profile takes no bookings.
        assert User.objects.filter(pk=trainer_a.pk, is_active=False).exists()
        profile.refresh_from_db()
    assert profile.is_active is False
    assert profile.pk not in {
        row["id"] for row in api_client(host_of(studio_a)).get("/api/trainers/").json()["results"]
    }


def test_a_deactivated_account_cannot_log_in_on_the_web_pages_and_its_session_ends_for_good(
    as_user, owner_a, manager_a, studio_a
):
    browser = Browser(HTTP_HOST=host_of(studio_a))
    assert browser.post("/accounts/login/", {"login": manager_a.email, "password": PASSWORD}).status_code == 302
    assert browser.get("/api/users/me/").status_code == 200

    as_user(owner_a).post(deactivate_url(manager_a), {}, format="json")

    assert browser.get("/api/users/me/").status_code in (401, 403)
    other_browser = Browser(HTTP_HOST=host_of(studio_a))
    other_browser.post("/accounts/login/", {"login": manager_a.email, "password": PASSWORD})
    assert other_browser.get("/api/users/me/").status_code in (401, 403)
    # Reactivated, the account logs in again with its password; the session from before stays ended.
    assert as_user(owner_a).post(reactivate_url(manager_a)).status_code == 200
    assert browser.get("/api/users/me/").status_code in (401, 403)
    assert other_browser.post("/accounts/login/", {"login": manager_a.email, "password": PASSWORD}).status_code == 302
    assert other_browser.get("/api/users/me/").status_code == 200


def test_a_reactivated_trainer_logs_in_again_and_is_bookable_but_old_tokens_stay_dead(
    as_user, owner_a, trainer_a, studio_a
):
    with tenant_context(studio_a):
        profile = TrainerFactory(user=trainer_a)
    old_token = token_of(trainer_a, studio_a)
    as_user(owner_a).post(deactivate_url(trainer_a), {}, format="json")

    response = as_user(owner_a).post(reactivate_url(trainer_a))

    assert response.status_code == 200
    assert response.json()["is_active"] is True
    assert api_client(host_of(studio_a), old_token).get("/api/users/me/").status_code == 401
    relogin = login(host_of(studio_a), trainer_a.email)
    assert relogin.status_code == 200
    assert relogin.json()["token"] != old_token
    with tenant_context(studio_a):
        profile.refresh_from_db()
    assert profile.is_active is True


def test_a_profile_of_a_deactivated_account_cannot_be_switched_back_on_alone(as_user, owner_a, trainer_a, studio_a):
    with tenant_context(studio_a):
        profile = TrainerFactory(user=trainer_a)
        services.staff_deactivate(user=trainer_a, actor=owner_a)

    response = as_user(owner_a).patch(f"/api/trainers/{profile.pk}/", {"is_active": True}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"is_active"}
    with tenant_context(studio_a):
        profile.refresh_from_db()
    assert profile.is_active is False


# -- who may deactivate and reactivate whom --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "target", "status"),
    [
        ("owner_a", "manager_a", 200),
        ("owner_a", "trainer_a", 200),
        ("manager_a", "trainer_a", 200),
        ("manager_a", "other_manager", 403),
        ("manager_a", "owner_a", 403),
        ("owner_a", "owner_a", 403),
        ("manager_a", "manager_a", 403),
        ("trainer_a", "other_trainer", 403),
        ("client_a", "trainer_a", 403),
    ],
)
def test_who_may_deactivate_and_reactivate_whom(request, as_user, studio_a, actor, target, status):
    people = {
        "other_manager": lambda: make_user(studio_a, role=Role.MANAGER, email="other.manager@alpha.test"),
        "other_trainer": lambda: make_user(studio_a, role=Role.TRAINER, email="other.trainer@alpha.test"),
    }
    target_user = people[target]() if target in people else request.getfixturevalue(target)
    actor_user = request.getfixturevalue(actor)
    api = as_user(actor_user)

    deactivated = api.post(deactivate_url(target_user), {}, format="json")
    with tenant_context(studio_a):
        is_active_after_deactivation = User.objects.get(pk=target_user.pk).is_active
        if target_user.pk != actor_user.pk:  # an inactive actor could not even be heard
            User.objects.filter(pk=target_user.pk).update(is_active=False)
    reactivated = api.post(reactivate_url(target_user))
    with tenant_context(studio_a):
        is_active_after_reactivation = User.objects.get(pk=target_user.pk).is_active

    assert deactivated.status_code == status
    assert reactivated.status_code == status
    assert is_active_after_deactivation is (status != 200)
    assert is_active_after_reactivation is (status == 200 or target_user.pk == actor_user.pk)


def test_anonymous_is_refused(anon_a, trainer_a, studio_a):
    assert anon_a.post(deactivate_url(trainer_a), {}, format="json").status_code == 401
    assert anon_a.get(deactivate_url(trainer_a)).status_code == 401
    assert anon_a.post(reactivate_url(trainer_a)).status_code == 401
    assert anon_a.patch(f"{STAFF}{trainer_a.pk}/", {"role": "manager"}, format="json").status_code == 401
    with tenant_context(studio_a):
        assert User.objects.get(pk=trainer_a.pk).is_active


def test_another_studios_owner_is_refused(as_user, studio_a, studio_b):
    # An id that exists in studio A only (ids are per schema).
    coach_a = make_user(studio_a, pk=9101, role=Role.TRAINER, email="coach@alpha.test")
    owner_b = make_user(studio_b, role=Role.OWNER, email="boss@bravo.test")
    api = as_user(owner_b, studio_b)

    assert api.get(deactivate_url(coach_a)).status_code == 404
    assert api.post(deactivate_url(coach_a), {}, format="json").status_code == 404
    assert api.post(reactivate_url(coach_a)).status_code == 404
    assert api.patch(f"{STAFF}{coach_a.pk}/", {"role": "manager"}, format="json").status_code == 404
    with tenant_context(studio_a):
        coach_a.refresh_from_db()
    assert (coach_a.is_active, coach_a.role) == (True, Role.TRAINER)


def test_a_client_account_is_not_staff_to_deactivate(as_user, owner_a, client_a, studio_a):
    assert as_user(owner_a).post(deactivate_url(client_a), {}, format="json").status_code == 404
    with tenant_context(studio_a):
        assert User.objects.get(pk=client_a.pk).is_active


def test_the_service_refuses_the_owner_whoever_asks(owner_a, studio_a):
    with tenant_context(studio_a):
        second_owner = make_user(studio_a, role=Role.OWNER, email="co.owner@alpha.test")
        with pytest.raises(Forbidden):
            services.staff_deactivate(user=owner_a, actor=second_owner)
        assert User.objects.get(pk=owner_a.pk).is_active


# -- role changes ----------------------------------------------------------------------------------------------


def test_the_owner_makes_a_manager_a_trainer_who_gets_a_bookable_profile(as_user, owner_a, manager_a, studio_a):
    response = as_user(owner_a).patch(f"{STAFF}{manager_a.pk}/", {"role": "trainer"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["user_type"] == "trainer"
    with tenant_context(studio_a):
        profile = Trainer.objects.get(user=manager_a)
    assert response.json()["trainer"] == profile.pk
    assert profile.is_active
    # The new role counts from the next request: no longer a manager.
    assert as_user(manager_a).get(STAFF).status_code == 403


def test_a_trainer_made_manager_keeps_teaching_and_gets_the_same_profile_back(as_user, owner_a, trainer_a, studio_a):
    with tenant_context(studio_a):
        profile = TrainerFactory(user=trainer_a)
    api = as_user(owner_a)

    promoted = api.patch(f"{STAFF}{trainer_a.pk}/", {"role": "manager"}, format="json")

    assert promoted.status_code == 200
    assert promoted.json()["trainer"] == profile.pk
    assert as_user(trainer_a).get(STAFF).status_code == 200
    with tenant_context(studio_a):
        profile.refresh_from_db()
        assert profile.is_active  # a manager may still teach
        # The profile stopped taking bookings while a manager; a trainer again, it is bookable again.
        Trainer.objects.filter(pk=profile.pk).update(is_active=False)
    demoted = api.patch(f"{STAFF}{trainer_a.pk}/", {"role": "trainer"}, format="json")
    assert demoted.json()["trainer"] == profile.pk
    with tenant_context(studio_a):
        profile.refresh_from_db()
        assert Trainer.objects.filter(user=trainer_a).count() == 1
    assert profile.is_active


@pytest.mark.parametrize(
    ("actor", "target", "status"),
    [
        ("manager_a", "trainer_a", 403),  # only the owner changes roles
        ("owner_a", "owner_a", 403),
        ("trainer_a", "manager_a", 403),
        ("client_a", "trainer_a", 403),
    ],
)
def test_only_the_owner_changes_roles_and_never_their_own(request, as_user, studio_a, actor, target, status):
    target_user = request.getfixturevalue(target)
    before = target_user.role

    response = as_user(request.getfixturevalue(actor)).patch(
        f"{STAFF}{target_user.pk}/", {"role": "manager" if before != Role.MANAGER else "trainer"}, format="json"
    )

    assert response.status_code == status
    with tenant_context(studio_a):
        assert User.objects.get(pk=target_user.pk).role == before


@pytest.mark.parametrize("role", ["owner", "client", "", None])
def test_a_staff_member_becomes_only_a_manager_or_a_trainer(as_user, owner_a, manager_a, studio_a, role):
    response = as_user(owner_a).patch(f"{STAFF}{manager_a.pk}/", {"role": role}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"role"}
    with tenant_context(studio_a):
        assert User.objects.get(pk=manager_a.pk).role == Role.MANAGER


def test_a_role_change_sends_no_mail(as_user, owner_a, manager_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        as_user(owner_a).patch(f"{STAFF}{manager_a.pk}/", {"role": "trainer"}, format="json")

    assert mail.outbox == []
