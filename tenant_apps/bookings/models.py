from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.contrib.postgres.indexes import GistIndex
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import F, Q
from phonenumber_field.modelfields import PhoneNumberField

from shared_apps.core import db as core_db
from shared_apps.core.validators import PERSON_NAME_MAX_LENGTH, TEXT_MAX_LENGTH, validate_name
from tenant_apps.clients.models import Client
from tenant_apps.packages.models import PaymentMethod
from tenant_apps.trainers.models import SessionType, Trainer


class TsTzRange(core_db.TsTzRange):
    """Kept under this name: migration 0001's exclusion constraint refers to it here."""


class BookingStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# Bookings in these statuses hold the trainer's time.
ACTIVE_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


class PaymentState(models.TextChoices):
    CREDIT = "credit", "Paid by a package credit"
    UNPAID = "unpaid", "To pay at the studio"
    PAID = "paid", "Payment recorded"
    COMPLIMENTARY = "complimentary", "Complimentary"


class CancelledBy(models.TextChoices):
    CLIENT = "client", "Client"
    STUDIO = "studio", "Studio"


# How a payment for a single session is taken; complimentary is a payment state of its own.
SESSION_PAYMENT_METHODS = [
    (value, label) for value, label in PaymentMethod.choices if value != PaymentMethod.COMPLIMENTARY
]


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
    cancelled_by = models.CharField(max_length=8, choices=CancelledBy.choices, blank=True)
    # How the session is paid for: a package's credit (client_package), at the studio later, a payment staff
    # recorded (method, amount, who and when), or not at all.
    payment_state = models.CharField(max_length=16, choices=PaymentState.choices, default=PaymentState.UNPAID)
    # The package whose credit paid for the session, if one did (debited in the same transaction).
    client_package = models.ForeignKey(
        "packages.ClientPackage", on_delete=models.PROTECT, null=True, blank=True, related_name="bookings"
    )
    # The credit that paid was given back (a timely or studio cancellation, a lenient late cancel or no-show).
    credit_returned = models.BooleanField(default=False)
    # Each undo that spends the credit again starts a new round of the ledger: one debit and at most one refund
    # per round (packages.CreditTransaction.booking_round).
    credit_round = models.PositiveSmallIntegerField(default=0)
    payment_method = models.CharField(max_length=16, choices=SESSION_PAYMENT_METHODS, blank=True)
    amount_paid = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    payment_currency = models.CharField(max_length=3, blank=True)
    payment_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payment_recorded_at = models.DateTimeField(null=True, blank=True)
    # A confirmation mail was queued (a pending request's "request received" mail is not one).
    confirmation_sent = models.BooleanField(default=False)
    # The cancellation mail was queued.
    cancellation_sent = models.BooleanField(default=False)
    # Signed into every manage link (/b/<token>/, tokens.py); raising it revokes all links sent so far.
    manage_link_version = models.PositiveIntegerField(default=1)
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
            # What a calendar looks up: a trainer's active bookings whose blocked time (buffers included)
            # touches a span. Without it the lookup reads every active booking the trainer ever had.
            GistIndex(
                F("trainer"),
                TsTzRange("blocked_from", "blocked_until"),
                name="booking_blocked_per_trainer",
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="booking_end_after_start"),
            models.CheckConstraint(
                condition=Q(blocked_from__lte=F("start_time"), blocked_until__gte=F("end_time")),
                name="booking_blocked_covers_session",
            ),
            models.CheckConstraint(
                condition=Q(payment_state=PaymentState.CREDIT, client_package__isnull=False)
                | (~Q(payment_state=PaymentState.CREDIT) & Q(client_package__isnull=True)),
                name="booking_credit_names_its_package",
            ),
            models.CheckConstraint(
                condition=~Q(payment_state=PaymentState.PAID)
                | (~Q(payment_method="") & Q(amount_paid__gt=0, payment_recorded_at__isnull=False)),
                name="booking_paid_is_recorded",
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
        UNDONE = "undone", "Completed or no-show undone"
        PACKAGE_ATTACHED = "package_attached", "Package attached"
        PAYMENT_RECORDED = "payment_recorded", "Payment recorded"
        COMPLIMENTARY = "complimentary", "Marked complimentary"

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    from_status = models.CharField(max_length=16, choices=BookingStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=BookingStatus.choices, blank=True)
    previous_start_time = models.DateTimeField(null=True, blank=True)
    new_start_time = models.DateTimeField(null=True, blank=True)
    # A move to another trainer.
    previous_trainer = models.ForeignKey(Trainer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    new_trainer = models.ForeignKey(Trainer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Staff booked or moved it outside the offered times (or recorded a past session).
    off_grid = models.BooleanField(default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.booking_id} {self.kind}"


class BookingHold(models.Model):
    """A guest's slot, kept from everyone else until the guest follows the link mailed to them (holds.py).

    A hold is live while it is unconfirmed and unexpired; only a live hold keeps the trainer's time (read by
    availability.selectors.trainer_busy, under the trainer's lock like a booking). Confirming it makes the
    booking and marks it used; an expired one simply stops counting and is deleted by a periodic task.
    """

    trainer = models.ForeignKey(Trainer, on_delete=models.CASCADE, related_name="holds")
    session_type = models.ForeignKey(SessionType, on_delete=models.CASCADE, related_name="holds")
    start_time = models.DateTimeField()
    end_time = models.DateTimeField()
    # As on Booking: the session widened by its type's buffers.
    blocked_from = models.DateTimeField()
    blocked_until = models.DateTimeField()
    first_name = models.CharField(max_length=PERSON_NAME_MAX_LENGTH, validators=[validate_name])
    last_name = models.CharField(max_length=PERSON_NAME_MAX_LENGTH, blank=True, validators=[validate_name])
    email = models.EmailField(max_length=254)
    phone = PhoneNumberField()  # stored E.164
    note = models.TextField(blank=True, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)])
    # SHA-256 of the token mailed to the guest: the database never holds a link that works.
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    booking = models.OneToOneField(Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="hold")
    # Where the request came from, for the per-address limits.
    client_address = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]
        indexes = [
            models.Index(fields=["trainer", "expires_at"]),
            models.Index(fields=["client_address", "expires_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="hold_end_after_start"),
            models.CheckConstraint(
                condition=Q(blocked_from__lte=F("start_time"), blocked_until__gte=F("end_time")),
                name="hold_blocked_covers_session",
            ),
        ]

    def __str__(self) -> str:
        return f"Hold of {self.trainer} at {self.start_time:%Y-%m-%d %H:%M} UTC for {self.email}"
