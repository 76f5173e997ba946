"""An erased client's address leaves the outbox too. clients may not import notifications (DESIGN.md §4), so
the outbox listens for the erasure instead of ``client_erase`` calling it."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from tenant_apps.notifications.models import Notification


@receiver(post_save, sender="clients.Client", dispatch_uid="notifications.client_erased")
def client_erased(sender, instance, **kwargs) -> None:
    """Blank the copied address and number on the client's rows (and the providers' errors, which may quote
    them); what is still pending is suppressed at send time."""
    if instance.erased_at is not None:
        Notification.objects.filter(client=instance).exclude(
            recipient_email="", recipient_phone="", last_error=""
        ).update(recipient_email="", recipient_phone="", last_error="")
