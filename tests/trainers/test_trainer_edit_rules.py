"""Who may change a trainer's hours and profile is the services' rule (may_manage_trainer_hours, may_edit_trainer),
which the API (/api/availability/, /api/trainers/<id>/) and the desk's trainers pages both ask: the owner and
managers anyone's, a trainer only their own, and only the details a trainer keeps for themselves."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role
from tenant_apps.trainers import services
from tests.conftest import make_user
from tests.factories import TrainerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def trainers_a(studio_a, owner_a, manager_a, trainer_a, client_a):
    """Every person's own trainer profile (an owner and a manager may teach), and a colleague's."""
    with tenant_context(studio_a):
        own = {user.pk: TrainerFactory(user=user) for user in (owner_a, manager_a, trainer_a)}
        colleague = TrainerFactory(user=make_user(studio_a, role=Role.TRAINER, email="otto@alpha.test"))
    return own, colleague


@pytest.mark.parametrize(
    ("who", "others"),
    [("owner_a", True), ("manager_a", True), ("trainer_a", False)],
)
def test_staff_manage_their_own_hours_and_only_the_owner_and_managers_anyones(request, trainers_a, who, others):
    user = request.getfixturevalue(who)
    own, colleague = trainers_a

    assert services.may_manage_trainer_hours(user, own[user.pk]) is True
    assert services.may_manage_trainer_hours(user, colleague) is others


@pytest.mark.parametrize(
    ("who", "others"),
    [("owner_a", True), ("manager_a", True), ("trainer_a", False)],
)
def test_staff_edit_their_own_details_and_only_the_owner_and_managers_anyones(request, trainers_a, who, others):
    user = request.getfixturevalue(who)
    own, colleague = trainers_a

    assert services.may_edit_trainer(user, own[user.pk], fields=services.TRAINER_SELF_EDITABLE) is True
    assert services.may_edit_trainer(user, own[user.pk], fields={"bio"}) is True
    assert services.may_edit_trainer(user, colleague, fields={"bio"}) is others
    assert services.may_edit_trainer(user, colleague) is others


@pytest.mark.parametrize(("who", "allowed"), [("owner_a", True), ("manager_a", True), ("trainer_a", False)])
@pytest.mark.parametrize("field", ["rating", "is_active"])
def test_rating_and_bookability_are_the_owners_and_managers_even_on_their_own_profile(
    request, trainers_a, who, allowed, field
):
    user = request.getfixturevalue(who)
    own, _ = trainers_a

    assert services.may_edit_trainer(user, own[user.pk], fields={"bio", field}) is allowed


def test_a_client_and_a_visitor_change_no_trainer(studio_a, client_a, trainers_a):
    """Not even a profile that names them (a trainer turned client keeps the row): the rule is for staff."""
    _, colleague = trainers_a
    with tenant_context(studio_a):
        theirs = TrainerFactory(user=client_a)

    for trainer in (theirs, colleague):
        assert services.may_manage_trainer_hours(client_a, trainer) is False
        assert services.may_edit_trainer(client_a, trainer, fields={"bio"}) is False
        assert services.may_manage_trainer_hours(AnonymousUser(), trainer) is False
        assert services.may_edit_trainer(AnonymousUser(), trainer) is False
