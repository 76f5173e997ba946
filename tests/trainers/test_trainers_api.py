import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User
from tenant_apps.trainers.models import Trainer
from tests.conftest import make_user
from tests.factories import TrainerFactory

pytestmark = pytest.mark.django_db
URL = "/api/trainers/"
BODY = {
    "email": "Coach.Rae@alpha.test",
    "first_name": "Rae",
    "last_name": "Diaz",
    "bio": "Strength coach",
    "expertise": ["strength", "mobility"],
}


def test_a_manager_adds_a_trainer_who_is_invited_by_mail(
    as_user, manager_a, studio_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(manager_a).post(URL, BODY)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "coach.rae@alpha.test"
    assert body["display_name"] == "Rae Diaz"
    assert body["timezone"] == "Europe/London"  # the studio's, by default
    with tenant_context(studio_a):
        trainer = Trainer.objects.get(pk=body["id"])
        assert trainer.user.role == Role.TRAINER
        assert not trainer.user.has_usable_password()
        assert body["user"] == trainer.user_id
    assert mail.outbox[-1].to == ["coach.rae@alpha.test"]


def test_a_trainer_in_another_zone(as_user, owner_a):
    response = as_user(owner_a).post(URL, {**BODY, "timezone": "America/Chicago"})

    assert response.json()["timezone"] == "America/Chicago"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"email": "x"}, "email"),
        ({"expertise": "strength"}, "expertise"),
        ({"first_name": ""}, "first_name"),
    ],
)
def test_bad_input_creates_neither_trainer_nor_account(as_user, owner_a, studio_a, change, field):
    response = as_user(owner_a).post(URL, {**BODY, **change})

    assert response.status_code == 400
    assert field in response.json()["fields"]
    with tenant_context(studio_a):
        assert not User.objects.filter(email="coach.rae@alpha.test").exists()
        assert Trainer.objects.count() == 0


def test_an_email_already_used_in_the_studio_is_refused(as_user, owner_a, client_a, studio_a):
    response = as_user(owner_a).post(URL, {**BODY, "email": client_a.email})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"email"}
    with tenant_context(studio_a):
        assert Trainer.objects.count() == 0


def test_the_public_list_hides_private_fields_and_inactive_trainers(anon_a, as_user, owner_a, studio_a):
    with tenant_context(studio_a):
        active = TrainerFactory(display_name="Ana", bio="Pilates")
        TrainerFactory(display_name="Gone", is_active=False)

    public = anon_a.get(URL).json()["results"]
    staff = as_user(owner_a).get(URL).json()["results"]

    assert [trainer["display_name"] for trainer in public] == ["Ana"]
    assert set(public[0]) == {"id", "display_name", "bio", "expertise", "rating", "session_types"}
    assert {trainer["display_name"] for trainer in staff} == {"Ana", "Gone"}
    assert staff[0]["email"]
    assert anon_a.get(f"{URL}{active.pk}/").json()["display_name"] == "Ana"


def test_delete_deactivates(as_user, owner_a, anon_a, studio_a):
    with tenant_context(studio_a):
        trainer = TrainerFactory()

    response = as_user(owner_a).delete(f"{URL}{trainer.pk}/")

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert anon_a.get(f"{URL}{trainer.pk}/").status_code == 404
    with tenant_context(studio_a):
        assert Trainer.objects.filter(pk=trainer.pk).exists()


def test_a_trainer_edits_their_own_profile_but_not_their_rating_or_a_colleague(as_user, studio_a, trainer_a):
    with tenant_context(studio_a):
        me = TrainerFactory(user=trainer_a)
        colleague = TrainerFactory()
    api = as_user(trainer_a)

    own = api.patch(f"{URL}{me.pk}/", {"bio": "New bio", "timezone": "Europe/Paris"})
    rating = api.patch(f"{URL}{me.pk}/", {"rating": "5.00"})
    other = api.patch(f"{URL}{colleague.pk}/", {"bio": "Hacked"})
    deactivate = api.delete(f"{URL}{colleague.pk}/")

    assert own.status_code == 200 and own.json()["timezone"] == "Europe/Paris"
    assert rating.status_code == 403
    assert other.status_code == 403
    assert deactivate.status_code == 403
    with tenant_context(studio_a):
        colleague.refresh_from_db()
    assert colleague.bio != "Hacked" and colleague.is_active


def test_clients_and_anonymous_cannot_write(as_user, anon_a, client_a, studio_a):
    with tenant_context(studio_a):
        trainer = TrainerFactory()

    assert as_user(client_a).post(URL, BODY).status_code == 403
    assert as_user(client_a).patch(f"{URL}{trainer.pk}/", {"bio": "x"}).status_code == 403
    assert anon_a.post(URL, BODY).status_code == 401
    assert anon_a.patch(f"{URL}{trainer.pk}/", {"bio": "x"}).status_code == 401


def test_another_studio_neither_sees_nor_edits(as_user, studio_a, studio_b):
    with tenant_context(studio_a):
        trainer = TrainerFactory(pk=8101, display_name="Only In A")
    owner_b = make_user(studio_b, role=Role.OWNER, email="boss@bravo.test")

    assert as_user(owner_b, studio_b).get(f"{URL}{trainer.pk}/").status_code == 404
    assert as_user(owner_b, studio_b).patch(f"{URL}{trainer.pk}/", {"bio": "x"}).status_code == 404
    assert "Only In A" not in str(as_user(owner_b, studio_b).get(URL).json())


def test_the_list_costs_a_fixed_number_of_queries(anon_a, studio_a, django_assert_max_num_queries):
    from tests.factories import SessionTypeFactory

    with tenant_context(studio_a):
        trainers = [TrainerFactory() for _ in range(3)]
        SessionTypeFactory(trainers=trainers)
    anon_a.get(URL)
    with django_assert_max_num_queries(5) as few:
        anon_a.get(URL)
    with tenant_context(studio_a):
        more = [TrainerFactory() for _ in range(30)]
        SessionTypeFactory(trainers=more)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(anon_a.get(URL).json()["results"]) == 33


def test_a_trainer_sees_a_colleagues_public_card_and_their_own_details(as_user, trainer_a, studio_a):
    with tenant_context(studio_a):
        me = TrainerFactory(user=trainer_a)
        colleague = TrainerFactory(display_name="Colin")

    mine = as_user(trainer_a).get(f"{URL}{me.pk}/").json()
    theirs = as_user(trainer_a).get(f"{URL}{colleague.pk}/").json()
    listing = as_user(trainer_a).get(URL).json()["results"]

    assert mine["email"] == trainer_a.email
    assert "email" not in theirs and "phone" not in theirs
    assert {"email" in trainer for trainer in listing} == {True, False}
