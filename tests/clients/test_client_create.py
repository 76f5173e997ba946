"""Adding a client is the owner's and managers' call: the rule is the service's (client_create's actor,
may_create_clients), which the API's permission and the desk's booking form both ask."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django_tenants.utils import tenant_context

from tenant_apps.clients import services
from tenant_apps.clients.models import Client

pytestmark = pytest.mark.django_db
URL = "/api/clients/"


@pytest.mark.parametrize("caller", ["owner", "manager"])
def test_the_owner_and_managers_add_a_client(studio_a, owner_a, manager_a, caller):
    actor = {"owner": owner_a, "manager": manager_a}[caller]

    with tenant_context(studio_a):
        client = services.client_create(actor=actor, email="Dee@Example.com", first_name="Dee")

        assert Client.objects.get(pk=client.pk).email == "dee@example.com"


@pytest.mark.parametrize("caller", ["trainer", "client"])
def test_the_service_refuses_anyone_else_and_adds_nothing(studio_a, trainer_a, client_a, caller):
    actor = {"trainer": trainer_a, "client": client_a}[caller]

    with tenant_context(studio_a):
        with pytest.raises(services.ClientCreateManagersOnly) as refusal:
            services.client_create(actor=actor, email="dee@example.com", first_name="Dee")

        assert not Client.objects.filter(email="dee@example.com").exists()
    assert refusal.value.status_code == 403


def test_without_an_actor_the_system_adds_a_client(studio_a):
    """No person asking (a sign-up's own record, an import): nothing to refuse."""
    with tenant_context(studio_a):
        services.client_create(email="dee@example.com", first_name="Dee")

        assert Client.objects.filter(email="dee@example.com").exists()


def test_who_may_add_clients(owner_a, manager_a, trainer_a, client_a):
    allowed = [services.may_create_clients(user) for user in (owner_a, manager_a, trainer_a, client_a)]

    assert allowed == [True, True, False, False]
    assert services.may_create_clients(AnonymousUser()) is False


def test_the_api_refuses_a_trainer_before_reading_the_body(as_user, trainer_a, studio_a):
    """The permission asks the service's predicate first, so a trainer learns nothing from validation."""
    response = as_user(trainer_a).post(URL, {"email": "not an email"})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    with tenant_context(studio_a):
        assert not Client.objects.exists()
