"""/api/me/client/: a client reads their own profile without knowing its id; no one else gets one."""

import pytest
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role
from tenant_apps.clients.models import Client
from tests.conftest import api_client, host_of, make_user, token_of
from tests.factories import ClientFactory, TrainerFactory

pytestmark = pytest.mark.django_db
URL = "/api/me/client/"


def test_a_client_reads_their_own_profile_without_the_studio_s_notes(as_user, client_a, booking_client_a, studio_a):
    with tenant_context(studio_a):
        coach = TrainerFactory(display_name="Max Coach")
        Client.objects.filter(pk=booking_client_a.pk).update(
            primary_trainer=coach, notes="Pays late, be firm", tags=["chaser"], goals=["5k run"]
        )

    response = as_user(client_a).get(URL)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["id"], body["user"], body["email"]) == (booking_client_a.pk, client_a.pk, client_a.email)
    assert (body["primary_trainer"], body["primary_trainer_name"], body["goals"]) == (coach.pk, "Max Coach", ["5k run"])
    # What the studio writes about a client is the studio's: it is not shown to them.
    assert not {"notes", "tags", "erased_at"} & set(body)
    assert "Pays late" not in response.content.decode()


def test_another_client_gets_their_own_profile_not_this_one(as_user, booking_client_a, studio_a):
    someone = make_user(studio_a, role=Role.CLIENT, email="sam@alpha.test")
    with tenant_context(studio_a):
        theirs = ClientFactory(email=someone.email, user=someone)

    body = as_user(someone).get(URL).json()

    assert body["id"] == theirs.pk != booking_client_a.pk


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER, Role.TRAINER])
def test_staff_have_no_client_profile(as_user, studio_a, role):
    staff = make_user(studio_a, role=role, email=f"{role}.me@alpha.test")
    with tenant_context(studio_a):
        ClientFactory(email=staff.email)  # even with a client record under the same address

    response = as_user(staff).get(URL)

    assert response.status_code == 404
    assert response.json()["code"] == "not_a_client"


def test_a_client_account_without_a_record_gets_a_clear_404(as_user, client_a, studio_a):
    with tenant_context(studio_a):
        known = ClientFactory(email=client_a.email)  # known to the studio, but the address isn't confirmed

    response = as_user(client_a).get(URL)

    assert response.status_code == 404
    assert response.json()["code"] == "no_client_profile"
    assert "confirm" in response.json()["detail"]
    with tenant_context(studio_a):
        known.refresh_from_db()
        assert known.user is None  # reading links nothing


def test_anonymous_is_refused(anon_a, booking_client_a):
    assert anon_a.get(URL).status_code == 401


def test_another_studio_s_token_means_nothing_here(studio_a, studio_b, client_b, booking_client_a):
    with tenant_context(studio_b):
        ClientFactory(email=client_b.email, user=client_b)
    token_b = token_of(client_b, studio_b)

    assert api_client(host_of(studio_b), token_b).get(URL).status_code == 200
    assert api_client(host_of(studio_a), token_b).get(URL).status_code == 401
