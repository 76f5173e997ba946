"""Consent to texts is given for a number: a new number (staff's edit, the account's profile) turns texts off
until the client agrees for it; an erasure takes the consent and the client's zone with the rest."""

from datetime import UTC, datetime

import pytest
from django_tenants.utils import tenant_context

from tenant_apps.clients.channels import client_channels_update
from tenant_apps.clients.models import Client
from tenant_apps.clients.services import client_create, client_erase, client_update

pytestmark = pytest.mark.django_db
AGREED = datetime(2026, 11, 3, 14, 5, tzinfo=UTC)


@pytest.fixture
def texting(studio_a):
    with tenant_context(studio_a):
        client = client_create(email="cleo@example.test", first_name="Cleo")
        return client_channels_update(
            client=client,
            email_reminders=True,
            sms_opt_in=True,
            phone="+447911123456",
            timezone="Europe/Paris",
            source="account",
            now=AGREED,
        )


def consent(studio, client) -> tuple:
    with tenant_context(studio):
        client = Client.objects.get(pk=client.pk)
    return client.sms_opt_in, client.sms_consent_at, client.sms_consent_source, str(client.phone), client.timezone


def test_a_new_number_turns_texts_off_until_the_client_agrees_again(studio_a, texting):
    with tenant_context(studio_a):
        client_update(client=texting, phone="+447400123456")

    assert consent(studio_a, texting)[:4] == (False, None, "", "+447400123456")


def test_other_edits_keep_the_consent(studio_a, texting):
    with tenant_context(studio_a):
        client_update(client=texting, first_name="Cleopatra", phone="+447911123456")

    assert consent(studio_a, texting)[:3] == (True, AGREED, "account")


def test_an_erasure_takes_the_consent_and_the_zone(studio_a, texting):
    with tenant_context(studio_a):
        client_erase(client=texting)

    assert consent(studio_a, texting) == (False, None, "", "", "")
