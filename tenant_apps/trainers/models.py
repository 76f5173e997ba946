from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import connection, models
from django.db.models import Q

from shared_apps.core.validators import (
    EXPERTISE_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    validate_name,
    validate_timezone,
)


def trainer_photo_path(trainer: "Trainer", filename: str) -> str:
    """Under the studio's own folder of the media, as its logo is."""
    return f"studios/{connection.schema_name}/trainers/{filename}"


class Trainer(models.Model):
    """A trainer of the studio: the person behind a calendar. Their account has the trainer role."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trainer")
    display_name = models.CharField(max_length=TITLE_MAX_LENGTH, validators=[validate_name])
    # TextField's max_length sizes form widgets only; the validator is what full_clean checks.
    bio = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)])
    expertise = ArrayField(models.CharField(max_length=EXPERTISE_MAX_LENGTH), default=list, blank=True)
    # Resized on upload (trainers.services.trainer_photo_set); its name changes with every upload. The column's
    # own default lets code that doesn't know the field yet (older migrations' data steps) insert rows.
    photo = models.ImageField(upload_to=trainer_photo_path, blank=True, default="", db_default="")
    # Availability is wall-clock time in this zone; it starts as the studio's and may differ from it.
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    rating = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("5"))],
    )
    total_sessions = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    # The secret in the trainer's private calendar feed URL (an ICS subscription); blank: no feed. A new one
    # revokes the old URL.
    calendar_feed_token = models.CharField(max_length=64, blank=True, default="", db_default="")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=0, rating__lte=5), name="trainer_rating_0_to_5"
            ),
            models.UniqueConstraint(
                fields=["calendar_feed_token"],
                condition=~Q(calendar_feed_token=""),
                name="trainer_calendar_feed_token_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name


class SessionType(models.Model):
    """What a client books: a length of time with a trainer, its price and its booking rules."""

    name = models.CharField(max_length=TITLE_MAX_LENGTH, validators=[validate_name])
    description = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    duration_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(5), MaxValueValidator(720)])
    # Slots start every this many minutes from each window's start; by default, back to back.
    slot_interval_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(5), MaxValueValidator(720)]
    )
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(max_length=3)
    buffer_before_minutes = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(240)])
    buffer_after_minutes = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(240)])
    min_notice_minutes = models.PositiveIntegerField(default=0)
    max_advance_days = models.PositiveSmallIntegerField(
        default=90, validators=[MinValueValidator(1), MaxValueValidator(730)]
    )
    cancellation_window_hours = models.PositiveSmallIntegerField(default=24)
    requires_confirmation = models.BooleanField(default=False)
    # The studio's fee policy: whether a client's late cancellation, or a no-show, keeps the credit spent.
    late_cancel_forfeits_credit = models.BooleanField(default=True)
    no_show_forfeits_credit = models.BooleanField(default=True)
    # How calendars show it.
    color = models.CharField(
        max_length=7,
        default="#2563eb",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour such as #2563eb.")],
    )
    is_active = models.BooleanField(default=True)
    trainers = models.ManyToManyField(Trainer, related_name="session_types", blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(duration_minutes__gte=5), name="session_type_duration_min_5"),
            models.CheckConstraint(
                condition=Q(slot_interval_minutes__isnull=True) | Q(slot_interval_minutes__gte=5),
                name="session_type_interval_min_5",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="session_type_price_not_negative"),
            models.CheckConstraint(condition=Q(max_advance_days__gte=1), name="session_type_advance_min_1_day"),
            models.CheckConstraint(
                condition=Q(buffer_before_minutes__lte=240, buffer_after_minutes__lte=240),
                name="session_type_buffers_max_240",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def interval_minutes(self) -> int:
        return self.slot_interval_minutes or self.duration_minutes
