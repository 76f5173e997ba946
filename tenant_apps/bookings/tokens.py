"""Manage links (``/b/<token>/``): a client opens their booking from a mail, without signing in.

A token is the booking's id and its ``manage_link_version``, signed with the secret key under a salt that names
the studio's schema: it can't be forged or pointed at another booking, and a token of one studio means nothing
on another (where the same id may be someone else's booking). Raising the version revokes every link sent so
far; a link also stops working once the session has ended. Nothing is stored per link.
"""

from datetime import datetime

from django.core import signing
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework import status

from shared_apps.accounts.models import User
from shared_apps.core.exceptions import ApplicationError, NotFound
from shared_apps.core.tenancy import site_url
from tenant_apps.bookings.models import Booking, BookingEvent

SALT = "bookings.manage-link"


class InvalidManageLink(NotFound):
    code = "manage_link_invalid"
    message = "This link is not valid. Use the link in your latest mail from us."


class ManageLinkRevoked(ApplicationError):
    status_code = status.HTTP_410_GONE
    code = "manage_link_revoked"
    message = "This link no longer works. Use the link in your latest mail from us, or ask the studio for a new one."


class ManageLinkExpired(ApplicationError):
    status_code = status.HTTP_410_GONE
    code = "manage_link_expired"
    message = "This session has already taken place, so its link no longer works."


def _salt() -> str:
    return f"{SALT}:{connection.schema_name}"


def booking_manage_token(booking: Booking) -> str:
    return signing.dumps({"b": booking.pk, "v": booking.manage_link_version}, salt=_salt())


def booking_manage_url(booking: Booking) -> str:
    """The absolute link to the booking's manage page, on the studio's primary domain."""
    return site_url(f"/b/{booking_manage_token(booking)}/")


def booking_from_manage_token(token: str, now: datetime | None = None) -> Booking:
    """The booking a manage token names: InvalidManageLink (tampered, another studio's, no such booking),
    ManageLinkRevoked (the booking's links were revoked since), ManageLinkExpired (the session has ended)."""
    try:
        payload = signing.loads(token, salt=_salt())
        booking_id, version = int(payload["b"]), int(payload["v"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise InvalidManageLink() from error
    booking = (
        Booking.objects.select_related("trainer", "session_type", "client", "client_package__package")
        .filter(pk=booking_id)
        .first()
    )
    if booking is None:
        raise InvalidManageLink()
    if version != booking.manage_link_version:
        raise ManageLinkRevoked()
    if booking.end_time <= (now or timezone.now()):
        raise ManageLinkExpired()
    return booking


@transaction.atomic
def booking_manage_links_revoke(*, booking: Booking, actor: User | None = None) -> Booking:
    """Every manage link of ``booking`` sent so far stops working; links made from now on work (the next mail
    carries one). The booking's history says who did it."""
    # An update by expression, not read-then-write: two revokes at once both raise the version.
    Booking.objects.filter(pk=booking.pk).update(
        manage_link_version=F("manage_link_version") + 1, updated=timezone.now()
    )
    booking.refresh_from_db(fields=["manage_link_version", "status", "updated"])
    # No kind of its own (that would be a migration for a label): an "updated" entry that says what changed.
    BookingEvent.objects.create(
        booking=booking,
        kind=BookingEvent.Kind.UPDATED,
        actor=actor,
        from_status=booking.status,
        to_status=booking.status,
        note="Manage links revoked: links sent so far no longer work.",
    )
    return booking
