"""Manage links (/b/<token>/): signed, bound to one booking of one studio, revocable, dead once the session has
ended; the booking mails carry them on the studio's own domain."""

import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django_tenants.utils import tenant_context

from tenant_apps.bookings import services, tokens
from tenant_apps.bookings.models import Booking
from tenant_apps.trainers.models import SessionType
from tests.bookings.conftest import at
from tests.conftest import next_monday
from tests.factories import ClientFactory, SessionTypeFactory, TrainerFactory, WindowFactory

pytestmark = pytest.mark.django_db
MANAGE_LINK = re.compile(r"(\S+/b/(\S+)/)\s")


def test_a_token_leads_back_to_its_booking(make_booking, studio_a):
    booking = make_booking("10:00")

    with tenant_context(studio_a):
        token = tokens.booking_manage_token(booking)
        found = tokens.booking_from_manage_token(token)

    assert found == booking
    assert re.fullmatch(r"[\w:-]+", token)  # safe in a URL path as it is


@pytest.mark.parametrize("mangle", ["last_char", "garbage", "empty", "unsigned_payload"])
def test_a_tampered_token_is_invalid(make_booking, studio_a, mangle):
    booking = make_booking("10:00")
    with tenant_context(studio_a):
        token = tokens.booking_manage_token(booking)
        wrong = {
            "last_char": token[:-1] + ("a" if token[-1] != "a" else "b"),
            "garbage": "not-a-token",
            "empty": "",
            "unsigned_payload": signing.dumps({"b": booking.pk, "v": 1}, salt="something else"),
        }[mangle]

        with pytest.raises(tokens.InvalidManageLink) as refused:
            tokens.booking_from_manage_token(wrong)

    assert (refused.value.status_code, refused.value.code) == (404, "manage_link_invalid")


def test_a_token_cant_be_moved_to_another_booking(make_booking, studio_a):
    mine, other = make_booking("10:00"), make_booking("11:00")
    with tenant_context(studio_a):
        token = tokens.booking_manage_token(mine)
        other_token = tokens.booking_manage_token(other)
        # The payload of the other booking's token under this token's signature.
        forged = other_token.split(":", 1)[0] + ":" + token.split(":", 1)[1]

        assert tokens.booking_from_manage_token(token) == mine
        with pytest.raises(tokens.InvalidManageLink):
            tokens.booking_from_manage_token(forged)


def test_a_token_of_one_studio_means_nothing_on_another(make_booking, studio_a, studio_b):
    """Ids repeat across studios' schemas: the token is signed for its studio, whatever id it names."""
    with tenant_context(studio_b):
        trainer = TrainerFactory(timezone="Europe/London")
        WindowFactory(trainer=trainer, day_of_week=0)
        session_type = SessionTypeFactory(trainers=[trainer])
        theirs = services.booking_create(
            trainer=trainer,
            client=ClientFactory(),
            session_type=session_type,
            start_time=at(next_monday(), "10:00"),
        )
    with tenant_context(studio_a):
        # A token studio A would give a booking with the id of studio B's.
        token = tokens.booking_manage_token(Booking(pk=theirs.pk, manage_link_version=theirs.manage_link_version))

    with tenant_context(studio_b), pytest.raises(tokens.InvalidManageLink):
        tokens.booking_from_manage_token(token)
    with tenant_context(studio_b):
        assert tokens.booking_from_manage_token(tokens.booking_manage_token(theirs)) == theirs


def test_a_token_of_a_deleted_booking_is_invalid(make_booking, studio_a):
    booking = make_booking("10:00")
    with tenant_context(studio_a):
        token = tokens.booking_manage_token(booking)
        booking.events.all().delete()
        Booking.objects.filter(pk=booking.pk).delete()

        with pytest.raises(tokens.InvalidManageLink):
            tokens.booking_from_manage_token(token)


def test_revoking_kills_every_link_sent_so_far_but_not_new_ones(make_booking, studio_a):
    booking = make_booking("10:00")
    with tenant_context(studio_a):
        old = tokens.booking_manage_token(booking)

        tokens.booking_manage_links_revoke(booking=booking)

        with pytest.raises(tokens.ManageLinkRevoked) as refused:
            tokens.booking_from_manage_token(old)
        assert (refused.value.status_code, refused.value.code) == (410, "manage_link_revoked")
        assert tokens.booking_from_manage_token(tokens.booking_manage_token(booking)) == booking


def test_a_link_stops_working_once_the_session_has_ended(make_booking, studio_a):
    booking = make_booking("10:00")
    with tenant_context(studio_a):
        token = tokens.booking_manage_token(booking)

        assert tokens.booking_from_manage_token(token, now=booking.end_time - timedelta(minutes=1)) == booking
        with pytest.raises(tokens.ManageLinkExpired) as refused:
            tokens.booking_from_manage_token(token, now=booking.end_time)
    assert (refused.value.status_code, refused.value.code) == (410, "manage_link_expired")


def test_a_link_follows_its_booking_when_it_moves(make_booking, studio_a):
    booking = make_booking("10:00")
    with tenant_context(studio_a):
        token = tokens.booking_manage_token(booking)
        services.booking_reschedule(booking=booking, start_time=at(next_monday(2), "10:00"), actor=None)

        # The old time has passed, the session hasn't: the link still works.
        found = tokens.booking_from_manage_token(token, now=at(next_monday(), "12:00"))
    assert found.start_time == at(next_monday(2), "10:00")


def _manage_links(message) -> list[str]:
    return MANAGE_LINK.findall(message.body + "\n")


@pytest.mark.parametrize("requires_confirmation", [False, True])
def test_the_booking_mails_carry_the_manage_link_on_the_studios_domain(
    make_booking, studio_a, schedule_a, requires_confirmation, django_capture_on_commit_callbacks
):
    _, session_type = schedule_a
    with tenant_context(studio_a):
        SessionType.objects.filter(pk=session_type.pk).update(requires_confirmation=requires_confirmation)
        session_type.refresh_from_db()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        booking = make_booking("10:00", session_type=session_type)
    with tenant_context(studio_a), django_capture_on_commit_callbacks(execute=True):
        services.booking_reschedule(booking=booking, start_time=at(next_monday(), "11:00"), actor=None)

    # The client's mails (the trainer's notice carries no manage link).
    requested_or_booked, moved = [message for message in mail.outbox if message.to == [booking.client.email]]
    assert requested_or_booked.subject.startswith("Request received" if requires_confirmation else "Booked")
    assert moved.subject.startswith("Moved")
    domain = studio_a.get_primary_domain().domain
    for message in (requested_or_booked, moved):
        [(link, token)] = _manage_links(message)
        assert re.match(rf"https?://{re.escape(domain)}(:\d+)?/b/", link)
        with tenant_context(studio_a):
            assert tokens.booking_from_manage_token(token) == booking
        assert "trainerhub" not in message.body.lower()
