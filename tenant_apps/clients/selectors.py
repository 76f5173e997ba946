import heapq
import re
from itertools import islice

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from shared_apps.accounts.models import Role, User
from shared_apps.core.exceptions import NotFound
from shared_apps.core.tenancy import studio_date
from tenant_apps.clients.models import Client, ClientImport, ClientNote

# Bookings and packages depend on clients, not the reverse: their models are named, never imported.


def _booking_model():
    return apps.get_model("bookings", "Booking")


def client_list(*, user: User) -> QuerySet[Client]:
    """Owner and managers see every client; a trainer those they train or who booked them; clients no one."""
    clients = Client.objects.select_related("primary_trainer")
    if user.manages_studio:
        return clients
    if user.role == Role.TRAINER:
        booked = _booking_model().objects.filter(client=OuterRef("pk"), trainer__user=user)
        return clients.filter(Q(primary_trainer__user=user) | Exists(booked))
    return clients.none()


def client_imports(*, user: User) -> QuerySet[ClientImport]:
    """Import jobs are the studio's: its owner and managers see every one, no one else any."""
    if user.manages_studio:
        return ClientImport.objects.defer("content")
    return ClientImport.objects.none()


def client_search(clients: QuerySet[Client], text: str) -> QuerySet[Client]:
    """Name, email or phone; a phone is matched on its digits whatever way it was typed."""
    condition = Q()
    for word in text.split():
        condition &= Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 4:
        # Stored numbers are E.164; a number typed the national way starts with a trunk 0 it doesn't have.
        condition |= Q(phone__contains=digits) | Q(phone__contains=digits.lstrip("0"))
    return clients.filter(condition)


def with_trainer(clients: QuerySet[Client], trainer_id: int) -> QuerySet[Client]:
    booked = _booking_model().objects.filter(client=OuterRef("pk"), trainer_id=trainer_id)
    return clients.filter(Q(primary_trainer_id=trainer_id) | Exists(booked))


def with_active_package(clients: QuerySet[Client], has_one: bool) -> QuerySet[Client]:
    # Expiry dates are the studio's days.
    today = studio_date(timezone.now())
    usable = apps.get_model("packages", "ClientPackage").objects.filter(
        client=OuterRef("pk"), status="active", sessions_remaining__gt=0, expiry_date__gte=today
    )
    return clients.filter(Exists(usable)) if has_one else clients.exclude(Exists(usable))


def client_notes(*, client: Client) -> QuerySet[ClientNote]:
    return client.client_notes.select_related("author")


def client_timeline(*, client: Client, user: User, limit: int = 100) -> list[dict]:
    """Notes, booking history and package movements of one client, newest first: one query per kind.

    A trainer sees the history of their own sessions with the client only, as in the client's booking list.
    """
    own_sessions = Q() if user.manages_studio else Q(booking__trainer__user=user)
    notes = (
        {"kind": "note", "at": note.created, "id": note.pk, "text": note.text, "author": note.author_id,
         "author_name": note.author.get_full_name() if note.author else ""}
        for note in client.client_notes.select_related("author").order_by("-created", "-id")[:limit]
    )  # fmt: skip
    booking_events = (
        {"kind": "booking", "at": event.created, "id": event.pk, "booking": event.booking_id,
         "event": event.kind, "status": event.to_status, "session_type": event.booking.session_type_id,
         "session_type_name": event.booking.session_type.name,
         "start_time": event.booking.start_time, "note": event.note}
        for event in apps.get_model("bookings", "BookingEvent").objects.filter(own_sessions, booking__client=client)
        .select_related("booking__session_type").order_by("-created", "-id")[:limit]
    )  # fmt: skip
    credits = (
        {"kind": "package", "at": move.created, "id": move.pk, "client_package": move.client_package_id,
         "event": move.kind, "delta": move.delta, "package": move.client_package.package_id,
         "package_name": move.client_package.package.name, "note": move.reason}
        for move in apps.get_model("packages", "CreditTransaction").objects.filter(
            own_sessions, client_package__client=client
        )
        .select_related("client_package__package").order_by("-created", "-id")[:limit]
    )  # fmt: skip
    newest_first = heapq.merge(notes, booking_events, credits, key=lambda item: item["at"], reverse=True)
    return list(islice(newest_first, limit))


class NotAClient(NotFound):
    code = "not_a_client"
    message = "This account is one of the studio's staff, not a client: it has no client profile."


class NoClientProfile(NotFound):
    code = "no_client_profile"
    message = (
        "No client profile is linked to this account yet. If the studio already knew your email address, "
        "confirm it by following the link we mailed you."
    )


def client_of_user(*, user: User) -> Client:
    """The client record of a signed-in client: what /api/me/... reads, without the caller knowing its id.

    Staff have none (NotAClient). A client's account may have none yet: sign-up links an address the studio
    already knew only once it is confirmed (NoClientProfile until then).
    """
    if user.role != Role.CLIENT:
        raise NotAClient()
    client = Client.objects.select_related("primary_trainer").filter(user=user).first()
    if client is None:
        raise NoClientProfile()
    return client
