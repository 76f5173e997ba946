from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from shared_apps.core.validators import TEXT_MAX_LENGTH, TITLE_MAX_LENGTH, validate_name
from tenant_apps.clients.models import Client
from tenant_apps.trainers.models import SessionType


class SessionPackage(models.Model):
    """A pack of prepaid sessions the studio sells, valid for so many days from purchase."""

    name = models.CharField(max_length=TITLE_MAX_LENGTH, validators=[validate_name])
    description = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    sessions_count = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(max_length=3)
    validity_days = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    # The session types it pays for; none means every session type.
    session_types = models.ManyToManyField(SessionType, blank=True, related_name="packages")
    is_active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(sessions_count__gte=1), name="package_sessions_positive"),
            models.CheckConstraint(condition=Q(price__gt=0), name="package_price_positive"),
            models.CheckConstraint(condition=Q(validity_days__gte=1), name="package_validity_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CARD = "card", "Card"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    COMPLIMENTARY = "complimentary", "Complimentary"
    OTHER = "other", "Other"


class ClientPackage(models.Model):
    """A package sold to a client. Its balance moves only through CreditTransaction rows."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="packages")
    package = models.ForeignKey(SessionPackage, on_delete=models.PROTECT, related_name="sales")
    sessions_remaining = models.IntegerField()
    purchased_at = models.DateTimeField()
    # The last day (in the studio's zone) the credits can be used on.
    expiry_date = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # The sale, for revenue reporting: what was paid, in which currency, how.
    amount_paid = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(max_length=3)
    payment_method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    sold_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["expiry_date", "id"]
        indexes = [models.Index(fields=["client", "status", "expiry_date"])]
        constraints = [
            # The last line of defence: a credit can't be spent twice.
            models.CheckConstraint(condition=Q(sessions_remaining__gte=0), name="client_package_balance_not_negative"),
            models.CheckConstraint(condition=Q(amount_paid__gte=0), name="client_package_paid_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.package} for {self.client}"


class CreditTransaction(models.Model):
    """One movement of a client package's balance; their sum is always the balance."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", "Purchase"
        BOOKING = "booking", "Booking debit"
        REFUND = "refund", "Cancellation refund"
        EXPIRY = "expiry", "Expiry"
        ADJUSTMENT = "adjustment", "Manual adjustment"

    client_package = models.ForeignKey(ClientPackage, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    delta = models.IntegerField()
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_transactions"
    )
    # The booking's credit round (Booking.credit_round): a new one starts only when undoing a no-show spends
    # again a credit that was given back.
    booking_round = models.PositiveSmallIntegerField(default=0)
    reason = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="credit_transaction_delta_not_zero"),
            # In each round a booking is debited once and refunded at most once.
            models.UniqueConstraint(
                fields=["booking", "kind", "booking_round"],
                condition=Q(booking__isnull=False),
                name="credit_once_per_booking_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.delta:+d} on {self.client_package_id}"
