from django.db.models import Exists, OuterRef, QuerySet

from shared_apps.accounts.models import Role, User
from tenant_apps.clients.models import Client


def client_list(*, user: User) -> QuerySet[Client]:
    """Owner and managers see every client; a trainer those who booked them; clients no one (the API refuses)."""
    clients = Client.objects.all()
    if user.manages_studio:
        return clients
    if user.role == Role.TRAINER:
        # Bookings point at clients, not the reverse: the relation is followed by name.
        from django.apps import apps

        booking = apps.get_model("bookings", "Booking")
        return clients.filter(Exists(booking.objects.filter(client=OuterRef("pk"), trainer__user=user)))
    return clients.none()
