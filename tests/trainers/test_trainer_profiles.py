"""One service makes a trainer profile, whichever way a trainer comes in: POST /api/trainers/ (a new address, or a
staff member without a profile), POST /api/staff/ with role trainer, a role change, a reactivation."""

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from shared_apps.accounts import services as account_services
from shared_apps.accounts.models import Role, User
from shared_apps.core.exceptions import ValidationFailed
from tenant_apps.trainers import services
from tenant_apps.trainers.models import Trainer
from tests.conftest import make_user, run_committed, run_in_threads
from tests.factories import TrainerFactory

pytestmark = pytest.mark.django_db
URL = "/api/trainers/"


def body_for(email: str) -> dict:
    return {"email": email, "first_name": "Rae", "last_name": "Diaz", "bio": "Strength", "timezone": "Europe/Paris"}


@pytest.mark.parametrize("person", ["manager_a", "owner_a"])
def test_a_staff_member_without_a_profile_gets_one_and_keeps_their_account(
    request, as_user, owner_a, studio_a, person, django_capture_on_commit_callbacks
):
    user = request.getfixturevalue(person)

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(owner_a).post(URL, body_for(user.email.upper()), format="json")

    assert response.status_code == 201, response.json()
    with tenant_context(studio_a):
        trainer = Trainer.objects.get(pk=response.json()["id"])
        account = User.objects.get(pk=user.pk)
    assert trainer.user_id == user.pk
    assert (trainer.display_name, trainer.bio, trainer.timezone, trainer.is_active) == (
        "Rae Diaz",
        "Strength",
        "Europe/Paris",
        True,
    )
    # The account is theirs as it was: role, names and password stay; no invitation goes out.
    assert (account.role, account.first_name, account.password) == (user.role, user.first_name, user.password)
    assert mail.outbox == []


def test_a_trainer_invited_as_staff_already_has_a_profile_and_a_second_is_refused(as_user, owner_a, studio_a):
    invite = {"email": "kim@alpha.test", "first_name": "Kim", "last_name": "Lee", "role": "trainer"}
    as_user(owner_a).post("/api/staff/", invite, format="json")

    response = as_user(owner_a).post(URL, body_for("kim@alpha.test"), format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"email"}
    with tenant_context(studio_a):
        assert Trainer.objects.filter(user__email="kim@alpha.test").count() == 1


def test_a_deactivated_staff_member_gets_no_profile(as_user, owner_a, manager_a, studio_a):
    with tenant_context(studio_a):
        account_services.staff_deactivate(user=manager_a, actor=owner_a)

    response = as_user(owner_a).post(URL, body_for(manager_a.email), format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"email"}
    with tenant_context(studio_a):
        assert not Trainer.objects.exists()


def test_bad_details_for_an_existing_staff_member_make_no_profile(as_user, owner_a, manager_a, studio_a):
    response = as_user(owner_a).post(URL, {**body_for(manager_a.email), "timezone": "Mars/Base"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"timezone"}
    with tenant_context(studio_a):
        assert not Trainer.objects.exists()


def test_a_trainer_or_a_client_cannot_add_a_profile_to_a_colleague(as_user, trainer_a, client_a, manager_a, studio_a):
    assert as_user(trainer_a).post(URL, body_for(manager_a.email), format="json").status_code == 403
    assert as_user(client_a).post(URL, body_for(manager_a.email), format="json").status_code == 403
    with tenant_context(studio_a):
        assert not Trainer.objects.exists()


def test_another_studios_owner_adds_nothing_to_this_studio(as_user, manager_a, studio_a, studio_b):
    owner_b = make_user(studio_b, role=Role.OWNER, email="boss@bravo.test")

    response = as_user(owner_b, studio_b).post(URL, body_for(manager_a.email), format="json")

    # Studio B has no such account: it invites a new person of its own; studio A is untouched.
    assert response.status_code == 201
    with tenant_context(studio_a):
        assert not Trainer.objects.exists()


# -- the service ---------------------------------------------------------------------------------------------


def test_the_profile_follows_the_account(owner_a, trainer_a, studio_a):
    with tenant_context(studio_a):
        profile = TrainerFactory(user=trainer_a)

        account_services.staff_deactivate(user=trainer_a, actor=owner_a)
        profile.refresh_from_db()
        assert not profile.is_active

        account_services.staff_reactivate(user=trainer_a, actor=owner_a)
        profile.refresh_from_db()
        assert profile.is_active


def test_a_trainer_with_a_profile_already_gets_no_second_one(manager_a, studio_a):
    with tenant_context(studio_a):
        first = services.trainer_profile_ensure(user=manager_a)
        again = services.trainer_profile_ensure(user=manager_a, bio="Now with a bio")

        assert first.pk == again.pk
        assert Trainer.objects.get(user=manager_a).bio == "Now with a bio"


def test_two_requests_adding_a_profile_to_one_manager_make_one_and_refuse_the_other(studio_a):
    """Both find the account without a profile; the account's row lock makes the second see the first's (without
    it, the second would hit the one-to-one constraint: a 500). A few rounds, as one may miss the window."""
    rounds = 5

    def setup():
        with tenant_context(studio_a):
            return [make_user(studio_a, role=Role.MANAGER, email=f"racer{n}@alpha.test") for n in range(rounds)]

    managers = run_committed(setup)

    def add_profile_to(manager):
        def add_profile(index: int):
            with tenant_context(studio_a):
                try:
                    return services.trainer_create(email=manager.email, first_name="Race", last_name=f"Er{index}").pk
                except ValidationFailed as error:
                    return error

        return add_profile

    try:
        outcomes = [run_in_threads(2, add_profile_to(manager)) for manager in managers]
        with tenant_context(studio_a):
            profiles = [Trainer.objects.filter(user=manager).count() for manager in managers]
    finally:

        def cleanup():
            with tenant_context(studio_a):
                Trainer.objects.filter(user__in=managers).delete()
                User.objects.filter(pk__in=[manager.pk for manager in managers]).delete()

        run_committed(cleanup)

    assert profiles == [1] * rounds
    for results in outcomes:
        assert sorted(type(result).__name__ for result in results) == ["ValidationFailed", "int"]
