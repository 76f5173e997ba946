"""The outbox: one row per message, written in the transaction of the change it tells about, sent by Celery."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class Kind(models.TextChoices):
    BOOKING_CONFIRMED = "booking_confirmed", "Booking confirmed"
    BOOKING_REQUESTED = "booking_requested", "Booking requested"
    BOOKING_RESCHEDULED = "booking_rescheduled", "Booking rescheduled"
    BOOKING_CANCELLED = "booking_cancelled", "Booking cancelled"
    REMINDER_24H = "reminder_24h", "Reminder, 24 hours before"
    REMINDER_1H = "reminder_1h", "Reminder, 1 hour before"
    PACKAGE_PURCHASED = "package_purchased", "Package purchased"
    PACKAGE_EXPIRING = "package_expiring", "Package expiring"
    STAFF_BOOKING_NEW = "staff_booking_new", "New booking (staff)"
    STAFF_BOOKING_CANCELLED = "staff_booking_cancelled", "Booking cancelled (staff)"


REMINDER_KINDS = (Kind.REMINDER_24H, Kind.REMINDER_1H)
PACKAGE_KINDS = (Kind.PACKAGE_PURCHASED, Kind.PACKAGE_EXPIRING)


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    BOUNCED = "bounced", "Bounced"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    SUPPRESSED = "suppressed", "Suppressed"


class Notification(models.Model):
    """A message to a client or a staff member. Rendered when it is sent, from the booking as it is then."""

    # The address or number it went to, read at send time (blank until then for an SMS, and once suppressed).
    recipient_email = models.EmailField(max_length=254, blank=True)
    recipient_phone = models.CharField(max_length=20, blank=True)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    # No database constraint: its check would take a key-share lock on the trainer's account row inside the
    # booking's transaction, after the trainer's lock, while a deactivation takes the account's row first and
    # then the trainer's (a deadlock). Django still sets it to null when the account is deleted.
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    client_package = models.ForeignKey(
        "packages.ClientPackage", on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    # What the current booking can't say any more at send time (the trainer before a move).
    details = models.JSONField(default=dict, blank=True)
    send_after = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    provider_message_id = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The provider's word that it reached the recipient (a delivery webhook), or that it didn't.
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["send_after", "id"]
        indexes = [
            # The sweep: what is pending and due, or stuck in sending.
            models.Index(fields=["status", "send_after"], name="notification_due"),
            # Delivery webhooks find their row by the provider's message id.
            models.Index(
                fields=["provider_message_id"],
                condition=~models.Q(provider_message_id=""),
                name="notification_provider_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient_email or self.recipient_phone} ({self.status})"


STAFF_KINDS = (Kind.STAFF_BOOKING_NEW, Kind.STAFF_BOOKING_CANCELLED)


class StaffNotificationPreference(models.Model):
    """The staff notices a member of staff chose not to receive (all of them unless muted here)."""

    # No database constraint, as on Notification.staff_user: the notice is written inside the booking's lock order.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    muted_kinds = ArrayField(models.CharField(max_length=32, choices=Kind.choices), default=list, blank=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: muted {', '.join(self.muted_kinds) or 'nothing'}"
