"""A client's name and phone changed on their account (My account's profile page, PATCH /api/users/me/) change
on their record in this studio's client book too, in the same transaction; erased records, records with no
account and other studios' books are left alone."""

import pytest
from django.test import Client as WebClient
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User
from shared_apps.core.exceptions import ValidationFailed
from tenant_apps.clients import receivers
from tenant_apps.clients.models import Client
from tests.conftest import PLATFORM_HOST, api_client, make_user, token_of
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
ME = "/api/users/me/"


def record(studio, client: Client) -> tuple[str, str, str]:
    with tenant_context(studio):
        fresh = Client.objects.get(pk=client.pk)
        return fresh.first_name, fresh.last_name, str(fresh.phone)


def account(studio, user: User) -> tuple[str, str, str]:
    with tenant_context(studio):
        fresh = User.objects.get(pk=user.pk)
        return fresh.first_name, fresh.last_name, str(fresh.phone)


def test_the_profile_page_updates_the_client_record(studio_a, client_a, booking_client_a):
    browser = WebClient(HTTP_HOST="alpha.localhost")
    with tenant_context(studio_a):
        browser.force_login(client_a)

    response = browser.post(
        "/account/profile/", {"first_name": "Lena", "last_name": "Marsh", "phone": "+44 7911 123456"}
    )

    assert response.status_code == 302, response.content
    assert record(studio_a, booking_client_a) == ("Lena", "Marsh", "+447911123456")


def test_the_api_updates_the_client_record(as_user, studio_a, client_a, booking_client_a):
    response = as_user(client_a).patch(
        ME, {"first_name": "Ada", "last_name": "Byron", "phone": "+44 7911 123456"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert record(studio_a, booking_client_a) == ("Ada", "Byron", "+447911123456")


def test_only_what_changed_on_the_account_is_copied(as_user, studio_a, client_a, booking_client_a):
    """Staff spelled the name their way on the record; a new phone alone doesn't undo that."""
    with tenant_context(studio_a):
        Client.objects.filter(pk=booking_client_a.pk).update(first_name="Cleopatra", last_name="Jones")

    response = as_user(client_a).patch(
        ME, {"first_name": client_a.first_name, "phone": "+44 7911 123456"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert record(studio_a, booking_client_a) == ("Cleopatra", "Jones", "+447911123456")


def test_a_cleared_first_name_leaves_the_record_s_but_the_rest_is_copied(as_user, studio_a, client_a, booking_client_a):
    """An account may have no first name; a record in the client book can't."""
    response = as_user(client_a).patch(ME, {"first_name": "", "last_name": "Marsh"}, format="json")

    assert response.status_code == 200, response.content
    assert account(studio_a, client_a)[:2] == ("", "Marsh")
    assert record(studio_a, booking_client_a)[:2] == ("Cleo", "Marsh")


def test_the_account_and_the_record_change_together_or_not_at_all(
    as_user, studio_a, client_a, booking_client_a, monkeypatch
):
    def refuse(**kwargs):
        raise ValidationFailed(fields={"phone": ["Refused by the client book."]})

    monkeypatch.setattr(receivers, "client_update", refuse)
    before = account(studio_a, client_a)

    response = as_user(client_a).patch(ME, {"first_name": "Ada", "phone": "+44 7911 123456"}, format="json")

    assert response.status_code == 400, response.content
    assert account(studio_a, client_a) == before
    assert record(studio_a, booking_client_a)[0] == "Cleo"


def test_the_same_person_s_record_in_another_studio_is_not_touched(as_user, studio_a, studio_b, client_a):
    """Users live per schema: the same person's account at studio B is another row, possibly with the same id,
    linked to B's record. Each studio keeps its own client book, synced when the client edits their profile on
    that studio's site: an edit at A says nothing about what B should call them (B may never see them again),
    and A's request can't reach B's schema anyway."""
    with tenant_context(studio_a):
        record_a = ClientFactory(email=client_a.email, first_name="Cleo", last_name="Old", user=client_a)
    # The same id as the account at A, too: only the schema tells them apart.
    same_person_b = make_user(
        studio_b, pk=client_a.pk, role=Role.CLIENT, email=client_a.email, first_name="Cleo", last_name="Old"
    )
    with tenant_context(studio_b):
        record_b = ClientFactory(email=client_a.email, first_name="Cleo", last_name="Old", user=same_person_b)

    response = as_user(client_a).patch(ME, {"last_name": "New"}, format="json")

    assert response.status_code == 200, response.content
    assert record(studio_a, record_a)[:2] == ("Cleo", "New")
    assert record(studio_b, record_b)[:2] == ("Cleo", "Old")
    assert account(studio_b, same_person_b)[:2] == ("Cleo", "Old")


def test_an_erased_client_record_is_not_touched(as_user, studio_a, client_a):
    # Erasure unlinks the account (client_erase); a record erased while still linked (data from before that
    # rule, or a hand-made fix) must keep no personal data all the same.
    with tenant_context(studio_a):
        erased = ClientFactory(
            email="erased-1@erased.invalid", first_name="Erased", last_name="", user=client_a, erased_at=timezone.now()
        )

    response = as_user(client_a).patch(ME, {"first_name": "Ada", "phone": "+44 7911 123456"}, format="json")

    assert response.status_code == 200, response.content
    assert account(studio_a, client_a)[0] == "Ada"
    assert record(studio_a, erased) == ("Erased", "", "")


def test_a_client_record_without_an_account_is_not_touched(as_user, studio_a, client_a):
    """The same address in the book is not enough: only the record linked to the account follows it."""
    with tenant_context(studio_a):
        unlinked = ClientFactory(email=client_a.email, first_name="Cleo", last_name="Old", user=None)

    response = as_user(client_a).patch(ME, {"first_name": "Ada", "last_name": "New"}, format="json")

    assert response.status_code == 200, response.content
    assert record(studio_a, unlinked)[:2] == ("Cleo", "Old")


def test_a_platform_account_changes_with_no_client_book_to_follow(platform_admin):
    """On the platform host the connection is on the public schema, which has no client book."""
    api = api_client(PLATFORM_HOST, token_of(platform_admin))

    response = api.patch(ME, {"first_name": "Pat"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["first_name"] == "Pat"
