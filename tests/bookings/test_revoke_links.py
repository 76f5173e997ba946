"""POST /api/bookings/{id}/revoke-links/: staff kill every manage link mailed so far (a forwarded mail, a dispute);
the booking answers as GET does, its history says who did it, nothing is mailed, and a new link works."""

import pytest
from django.core import mail
from django.test import Client as WebClient
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import User
from tenant_apps.bookings import tokens
from tenant_apps.bookings.models import Booking
from tests.bookings.conftest import STAFF_MATRIX

pytestmark = pytest.mark.django_db


def url(booking_id: int) -> str:
    return f"/api/bookings/{booking_id}/revoke-links/"


def token_of_booking(studio, booking) -> str:
    with tenant_context(studio):
        return tokens.booking_manage_token(Booking.objects.get(pk=booking.pk))


def state(studio, booking) -> tuple[int, list[tuple]]:
    """The link version and the history (kind, actor, note) of one booking."""
    with tenant_context(studio):
        fresh = Booking.objects.get(pk=booking.pk)
        return fresh.manage_link_version, list(fresh.events.values_list("kind", "actor", "note"))


def test_a_manager_revokes_the_links_sent_so_far_and_a_new_one_works(
    as_user, studio_a, manager_a, make_booking, django_capture_on_commit_callbacks
):
    booking = make_booking()
    old_token = token_of_booking(studio_a, booking)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = as_user(manager_a).post(url(booking.pk))

    assert response.status_code == 200, response.content
    assert response.json() == as_user(manager_a).get(f"/api/bookings/{booking.pk}/").json()
    assert response.json()["status"] == "confirmed"
    assert mail.outbox == []
    assert queued == []  # no mail, no task queued for later either
    version, events = state(studio_a, booking)
    assert version == booking.manage_link_version + 1
    assert events[-1] == ("updated", manager_a.pk, "Manage links revoked: links sent so far no longer work.")
    with tenant_context(studio_a), pytest.raises(tokens.ManageLinkRevoked):
        tokens.booking_from_manage_token(old_token)
    new_token = token_of_booking(studio_a, booking)
    web = WebClient(HTTP_HOST="alpha.localhost")
    gone = web.get(f"/b/{old_token}/")
    assert gone.status_code == 410
    assert "ask the studio for a new one" in gone.content.decode()
    assert web.get(f"/b/{new_token}/").status_code == 200


def test_the_booking_s_trainer_may_revoke_its_links(as_user, studio_a, trainer_a, make_booking):
    booking = make_booking()

    response = as_user(trainer_a).post(url(booking.pk))

    assert response.status_code == 200, response.content
    assert state(studio_a, booking)[0] == booking.manage_link_version + 1


def test_revoking_twice_kills_the_link_of_the_first_revoke_too(as_user, studio_a, owner_a, make_booking):
    booking = make_booking()
    as_user(owner_a).post(url(booking.pk))
    between = token_of_booking(studio_a, booking)

    as_user(owner_a).post(url(booking.pk))

    with tenant_context(studio_a), pytest.raises(tokens.ManageLinkRevoked):
        tokens.booking_from_manage_token(between)
    assert [kind for kind, _, _ in state(studio_a, booking)[1]] == ["created", "updated", "updated"]


@pytest.mark.parametrize("caller", sorted(STAFF_MATRIX))
def test_revoke_links_permission_matrix(callers, caller, studio_a, make_booking):
    """A trainer can't see another trainer's booking, so it is a 404 as for every staff action on bookings; the
    booking's own client is refused (403); studio A's token on studio B's host means nothing (401)."""
    booking = make_booking()
    token = token_of_booking(studio_a, booking)
    before = state(studio_a, booking)

    response = callers[caller].post(url(booking.pk))

    assert response.status_code == STAFF_MATRIX[caller], response.content
    if response.status_code == 200:
        assert state(studio_a, booking)[0] == before[0] + 1
    else:
        assert state(studio_a, booking) == before
        with tenant_context(studio_a):
            assert tokens.booking_from_manage_token(token) == booking


def test_the_client_is_refused_with_a_reason(as_user, client_a, make_booking):
    booking = make_booking()

    response = as_user(client_a).post(url(booking.pk))

    assert (response.status_code, response.json()["detail"]) == (403, "Only the studio's staff can do this.")


def test_another_studio_s_owner_gets_404_and_the_booking_is_untouched(as_user, studio_a, studio_b, make_booking):
    booking = make_booking()
    with tenant_context(studio_b):
        owner_b = User.objects.get(email="owner@bravo.test")
        # No booking of studio B has this id, so only studio A's could answer to it.
        assert not Booking.objects.filter(pk=booking.pk).exists()
    before = state(studio_a, booking)

    response = as_user(owner_b, studio_b).post(url(booking.pk))

    assert response.status_code == 404, response.content
    assert state(studio_a, booking) == before


def test_an_unknown_booking_is_404(as_user, owner_a, make_booking):
    booking = make_booking()

    response = as_user(owner_a).post(url(booking.pk + 1000))

    assert response.status_code == 404, response.content


def test_a_get_is_not_allowed(as_user, owner_a, studio_a, make_booking):
    booking = make_booking()

    response = as_user(owner_a).get(url(booking.pk))

    assert response.status_code == 405
    assert state(studio_a, booking)[0] == booking.manage_link_version
