from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import F, Func, Q

from shared_apps.core.validators import TEXT_MAX_LENGTH
from tenant_apps.clients.models import Client
from tenant_apps.trainers.models import SessionType, Trainer


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class BookingStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# Bookings in these statuses hold the trainer's time.
ACTIVE_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


class Booking(models.Model):
    ACTIVE_STATUSES = ACTIVE_STATUSES

    trainer = models.ForeignKey(Trainer, on_delete=models.PROTECT, related_name="bookings")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="bookings")
    session_type = models.ForeignKey(SessionType, on_delete=models.PROTECT, related_name="bookings")
    start_time = models.DateTimeField()
    end_time = models.DateTimeField()
    # The time the booking keeps from others: the session widened by its type's buffers when it was booked.
    blocked_from = models.DateTimeField()
    blocked_until = models.DateTimeField()
    status = models.CharField(max_length=16, choices=BookingStatus.choices, default=BookingStatus.CONFIRMED)
    notes = models.TextField(blank=True, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)])
    price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    cancellation_reason = models.CharField(max_length=500, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    is_late_cancellation = models.BooleanField(default=False)
    # The package whose credit paid for the session, if one did (debited in the same transaction).
    client_package = models.ForeignKey(
        "packages.ClientPackage", on_delete=models.PROTECT, null=True, blank=True, related_name="bookings"
    )
    # Set when a confirmation (or, pending, a request-received) mail was queued with the booking.
    confirmation_sent = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start_time", "id"]
        indexes = [
            models.Index(fields=["trainer", "start_time"]),
            models.Index(fields=["client", "start_time"]),
            models.Index(fields=["status", "start_time"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="booking_end_after_start"),
            models.CheckConstraint(
                condition=Q(blocked_from__lte=F("start_time"), blocked_until__gte=F("end_time")),
                name="booking_blocked_covers_session",
            ),
            # The last line of defence against double booking, whatever path wrote the row.
            ExclusionConstraint(
                name="booking_no_overlap_per_trainer",
                expressions=[
                    ("trainer", RangeOperators.EQUAL),
                    (TsTzRange("start_time", "end_time"), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_type} with {self.trainer} at {self.start_time:%Y-%m-%d %H:%M} UTC"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class BookingEvent(models.Model):
    """The history of a booking: every status change and reschedule, who did it and when."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"
        RESCHEDULED = "rescheduled", "Rescheduled"
        UPDATED = "updated", "Updated"

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    from_status = models.CharField(max_length=16, choices=BookingStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=BookingStatus.choices, blank=True)
    previous_start_time = models.DateTimeField(null=True, blank=True)
    new_start_time = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.booking_id} {self.kind}"
