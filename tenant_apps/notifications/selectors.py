"""Reads of the outbox, scoped by who asks: the API's list and the desk's pages take their rows from here, so the
two can't show a caller different messages."""

from django.db.models import Q, QuerySet

from shared_apps.accounts.models import Role, User
from tenant_apps.notifications.models import Notification


def notification_list(*, user: User) -> QuerySet[Notification]:
    """The messages ``user`` may see: all of them for the owner and managers; for a trainer those about their
    own bookings (the client's messages and reminders) and the notices sent to them (one about a
    booking since moved to another trainer included); nothing for anyone else."""
    notifications = Notification.objects.all()
    if user.manages_studio:
        return notifications
    if user.role == Role.TRAINER:
        # Not the notices to another trainer about a booking that is theirs now (a handover): addressed to them.
        return notifications.filter(Q(booking__trainer__user=user, staff_user__isnull=True) | Q(staff_user=user))
    return notifications.none()


def may_see_delivery_errors(user: User) -> bool:
    """A failed send's error is the provider's own text (it may quote addresses and account details): the owner
    and managers, who deal with the ESP and Twilio, read it; a trainer sees that it failed."""
    return user.manages_studio
