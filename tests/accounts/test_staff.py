import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User

pytestmark = pytest.mark.django_db
URL = "/api/staff/"
BODY = {"email": "Coach.Kim@alpha.test", "first_name": "Kim", "last_name": "Lee", "role": "trainer"}


@pytest.mark.parametrize("inviter", ["owner_a", "manager_a"])
def test_owner_or_manager_invites_staff_who_get_a_mail_to_set_a_password(
    request, inviter, as_user, studio_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(request.getfixturevalue(inviter)).post(URL, BODY, format="json")

    assert response.status_code == 201
    assert response.json()["user_type"] == "trainer"
    with tenant_context(studio_a):
        user = User.objects.get(email="coach.kim@alpha.test")
        assert user.role == Role.TRAINER
        assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["coach.kim@alpha.test"]
    assert "Alpha Strength" in mail.outbox[0].subject
    assert "http://alpha.localhost/accounts/password/reset/key/" in mail.outbox[0].body


def test_staff_list_shows_staff_not_clients(as_user, owner_a, manager_a, trainer_a, client_a):
    response = as_user(manager_a).get(URL)

    assert response.status_code == 200
    emails = {person["email"] for person in response.json()["results"]}
    assert emails == {owner_a.email, manager_a.email, trainer_a.email}


def test_staff_detail(as_user, owner_a, trainer_a, client_a):
    assert as_user(owner_a).get(f"{URL}{trainer_a.pk}/").json()["email"] == trainer_a.email
    assert as_user(owner_a).get(f"{URL}{client_a.pk}/").status_code == 404


@pytest.mark.parametrize("role", ["owner", "client", "admin", ""])
def test_only_managers_and_trainers_can_be_invited(as_user, owner_a, role):
    response = as_user(owner_a).post(URL, {**BODY, "role": role}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"role"}


def test_an_email_already_in_the_studio_is_refused(as_user, owner_a, client_a):
    response = as_user(owner_a).post(URL, {**BODY, "email": "CLIENT@alpha.test"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"email"}


@pytest.mark.parametrize("role_fixture", ["trainer_a", "client_a"])
def test_trainers_and_clients_are_refused(request, as_user, role_fixture, studio_a):
    api = as_user(request.getfixturevalue(role_fixture))

    assert api.get(URL).status_code == 403
    assert api.post(URL, BODY, format="json").status_code == 403
    with tenant_context(studio_a):
        assert not User.objects.filter(email="coach.kim@alpha.test").exists()


def test_anonymous_is_refused(anon_a):
    assert anon_a.get(URL).status_code == 401


def test_another_studios_owner_is_refused(as_user, studio_a, studio_b):
    from tests.conftest import make_user

    # An id that exists in studio A only (ids are per schema, so small ones exist in both).
    coach_a = make_user(studio_a, pk=9001, role=Role.TRAINER, email="coach@alpha.test")
    owner_b = make_user(studio_b, role=Role.OWNER, email="boss@bravo.test")

    listing = as_user(owner_b, studio_b).get(URL)
    detail = as_user(owner_b, studio_b).get(f"{URL}{coach_a.pk}/")

    assert coach_a.email not in str(listing.json())
    assert detail.status_code == 404
