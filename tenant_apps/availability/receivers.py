"""Every saved or deleted row that decides free times, or that a calendar shows, bumps the studio's calendar
version (versions.py). Bookings, holds and clients are named by string: availability doesn't import their apps."""

from django.db.models.signals import m2m_changed, post_delete, post_save

from shared_apps.core.signals import calendar_data_changed
from tenant_apps.availability.models import AvailabilitySlot, TrainerBreak
from tenant_apps.availability.versions import calendar_changed
from tenant_apps.trainers.models import SessionType, Trainer

# Clients too: the desk's calendar, cached under the same version, shows their names.
SENDERS = (
    AvailabilitySlot,
    TrainerBreak,
    Trainer,
    SessionType,
    "bookings.Booking",
    "bookings.BookingHold",
    "clients.Client",
)


def _changed(sender, **kwargs) -> None:
    calendar_changed()


def connect() -> None:
    for sender in SENDERS:
        post_save.connect(_changed, sender=sender, dispatch_uid=f"availability-version-save-{sender}")
        post_delete.connect(_changed, sender=sender, dispatch_uid=f"availability-version-delete-{sender}")
    m2m_changed.connect(_changed, sender=SessionType.trainers.through, dispatch_uid="availability-version-offers")
    calendar_data_changed.connect(_changed, dispatch_uid="availability-version-bulk")
