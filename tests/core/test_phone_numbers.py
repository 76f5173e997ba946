"""Phone numbers: typed without a country code they are the studio's country's; stored and answered as E.164.
The same rule in every phone input of the API and in the client CSV import."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context, tenant_context
from rest_framework import serializers

from shared_apps.accounts.models import User
from shared_apps.core.fields import PhoneNumberField
from shared_apps.core.phone_numbers import InvalidPhoneNumber, phone_number_e164
from tenant_apps.clients import csv_io
from tenant_apps.clients.models import Client
from tenants.services import studio_update
from tests.conftest import api_client, host_of, token_of

pytestmark = pytest.mark.django_db
CLIENTS = "/api/clients/"


@pytest.fixture
def us_studio(studio_b):
    """Studio B, moved to the United States for the test (rolled back after it)."""
    with schema_context("public"):
        return studio_update(studio=studio_b, country="US").studio


@pytest.fixture
def owner_b(studio_b):
    with tenant_context(studio_b):
        return User.objects.get(email="owner@bravo.test")


@pytest.mark.parametrize(
    ("typed", "region", "stored"),
    [
        ("07911 123456", "GB", "+447911123456"),
        ("(201) 555-0123", "US", "+12015550123"),
        ("+33 6 12 34 56 78", "GB", "+33612345678"),  # a country code works anywhere
        ("+33 6 12 34 56 78", None, "+33612345678"),
        ("0033 6 12 34 56 78", "GB", "+33612345678"),  # the international prefix dialled from the UK
    ],
)
def test_a_number_is_read_in_the_region_unless_it_says_its_country(typed, region, stored):
    assert phone_number_e164(typed, region=region) == stored


@pytest.mark.parametrize(
    ("typed", "region"),
    [("07911 123456", None), ("07911 123456", "US"), ("12", "GB"), ("call me", "GB"), ("+99 123", "GB"), ("", "GB")],
)
def test_what_is_not_a_valid_number_there_is_refused(typed, region):
    with pytest.raises(InvalidPhoneNumber):
        phone_number_e164(typed, region=region)


def test_on_the_platform_there_is_no_region_so_the_country_code_is_needed():
    with schema_context("public"):
        field = PhoneNumberField()
        with pytest.raises(serializers.ValidationError) as refusal:
            field.run_validation("07911 123456")
        assert "country code" in str(refusal.value.detail[0])
        assert field.run_validation("+44 7911 123456") == "+447911123456"


def test_a_uk_studio_takes_a_uk_number_without_its_country_code(as_user, manager_a, studio_a):
    response = as_user(manager_a).post(
        CLIENTS, {"email": "dee@example.com", "first_name": "Dee", "phone": "07911 123456"}
    )

    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == "+447911123456"
    with tenant_context(studio_a):
        assert str(Client.objects.get(email="dee@example.com").phone) == "+447911123456"


def test_a_us_studio_takes_a_us_number_and_refuses_a_uk_one_without_country_code(us_studio, owner_b):
    api = api_client(host_of(us_studio), token_of(owner_b, us_studio))

    us = api.post(CLIENTS, {"email": "sam@example.com", "first_name": "Sam", "phone": "(201) 555-0123"})
    uk = api.post(CLIENTS, {"email": "dee@example.com", "first_name": "Dee", "phone": "07911 123456"})
    uk_in_full = api.post(CLIENTS, {"email": "dee@example.com", "first_name": "Dee", "phone": "+44 7911 123456"})

    assert us.status_code == 201, us.json()
    assert us.json()["phone"] == "+12015550123"
    assert uk.status_code == 400
    assert uk.json()["code"] == "invalid"
    assert "US number" in uk.json()["fields"]["phone"][0]
    assert uk_in_full.json()["phone"] == "+447911123456"


@pytest.mark.parametrize("typed", ["12", "not a number", "07911 12345678901", "+" + "1" * 70])
def test_an_invalid_number_is_a_clear_400_and_nothing_is_written(as_user, manager_a, studio_a, typed):
    response = as_user(manager_a).post(CLIENTS, {"email": "dee@example.com", "first_name": "Dee", "phone": typed})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["phone"]
    assert response.json()["fields"]["phone"][0].startswith(("Enter a valid phone number", "Ensure this field"))
    with tenant_context(studio_a):
        assert not Client.objects.exists()


def test_register_and_me_read_a_number_as_the_studios(anon_a, as_user, client_a, studio_a):
    registered = anon_a.post(
        "/api/users/register/",
        {
            "email": "new@client.test",
            "password": "Str0ng-Passw0rd!",
            "first_name": "New",
            "last_name": "Client",
            "phone": "07911 123456",
        },
    )
    changed = as_user(client_a).patch("/api/users/me/", {"phone": "020 7946 0958"})
    refused = as_user(client_a).patch("/api/users/me/", {"phone": "12"})

    assert registered.status_code == 201, registered.json()
    assert changed.json()["phone"] == "+442079460958"
    assert refused.status_code == 400 and "phone" in refused.json()["fields"]
    with tenant_context(studio_a):
        assert str(User.objects.get(email="new@client.test").phone) == "+447911123456"
        assert str(User.objects.get(pk=client_a.pk).phone) == "+442079460958"


def import_csv(api, text: str):
    upload = SimpleUploadedFile("clients.csv", text.encode(), "text/csv")
    return api.post("/api/clients/import/", {"file": upload}, format="multipart")


def test_the_csv_import_reads_numbers_as_the_studios(as_user, manager_a, studio_a, us_studio, owner_b):
    uk = import_csv(as_user(manager_a), "email,first name,phone\nada@math.test,Ada,07911 123456\n")
    us = import_csv(
        api_client(host_of(us_studio), token_of(owner_b, us_studio)),
        "email,first name,phone\nsam@example.com,Sam,(201) 555-0123\ndee@example.com,Dee,07911 123456\n",
    )

    assert uk.status_code == 200 and uk.json()["created"] == 1, uk.json()
    with tenant_context(studio_a):
        assert str(Client.objects.get(email="ada@math.test").phone) == "+447911123456"
    # All or nothing: the UK number without its country code is refused in the US studio, row by row.
    assert us.status_code == 400
    assert [(error["row"], error["field"]) for error in us.json()["errors"]] == [(3, "phone")]


def test_csv_parsing_takes_the_region_it_is_given():
    parsed = csv_io.parse(b"email,phone\nsam@example.com,(201) 555-0123\n", region="US")

    assert parsed.errors == []
    assert parsed.rows == [(2, {"email": "sam@example.com", "phone": "+12015550123"})]
