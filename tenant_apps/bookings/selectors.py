from django.db.models import QuerySet

from shared_apps.accounts.models import Role, User
from tenant_apps.bookings.models import Booking, BookingEvent
from tenant_apps.clients.models import Client
from tenant_apps.clients.selectors import client_of_user


def booking_list(*, user: User) -> QuerySet[Booking]:
    """The bookings ``user`` may see: all for owner and managers, their own for a trainer or a client."""
    # Everything a calendar shows of a booking comes in the same query: names, colour, the paying package.
    bookings = Booking.objects.select_related("trainer", "client", "session_type", "client_package__package")
    if user.manages_studio:
        return bookings
    if user.role == Role.TRAINER:
        return bookings.filter(trainer__user=user)
    return bookings.filter(client__user=user)


def client_bookings(*, user: User, client: Client) -> QuerySet[Booking]:
    """``client``'s bookings that ``user`` may see, newest first."""
    return booking_list(user=user).filter(client=client).order_by("-start_time", "-id")


def my_bookings(*, user: User) -> QuerySet[Booking]:
    """A client user's own bookings, newest first. Staff (NotAClient) and a client account with no client record
    yet (NoClientProfile) have none: 404, as for every /api/me/ read."""
    client = client_of_user(user=user)
    return booking_list(user=user).filter(client=client).order_by("-start_time", "-id")


def booking_history(*, booking: Booking) -> QuerySet[BookingEvent]:
    return booking.events.select_related("actor").order_by("created", "id")
