from django.db import models
from django.db.models import F, Q

from tenant_apps.trainers.models import Trainer


class AvailabilitySlot(models.Model):
    """A window of wall-clock time, in the trainer's zone, when the trainer can be booked.

    Weekly (``is_recurring``) on ``day_of_week``, or once on ``date``. Several windows a day express breaks
    such as lunch.
    """

    trainer = models.ForeignKey(Trainer, on_delete=models.CASCADE, related_name="availability")
    day_of_week = models.PositiveSmallIntegerField(help_text="0 = Monday … 6 = Sunday")
    start_time = models.TimeField()
    end_time = models.TimeField()
    is_recurring = models.BooleanField(default=True)
    date = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["trainer_id", "day_of_week", "start_time"]
        indexes = [models.Index(fields=["trainer", "is_active"])]
        constraints = [
            models.CheckConstraint(condition=Q(day_of_week__gte=0, day_of_week__lte=6), name="availability_day_0_6"),
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="availability_end_after_start"),
            models.CheckConstraint(
                condition=Q(is_recurring=True, date__isnull=True) | Q(is_recurring=False, date__isnull=False),
                name="availability_recurring_xor_date",
            ),
        ]

    def __str__(self) -> str:
        when = f"every {self.day_of_week}" if self.is_recurring else str(self.date)
        return f"{self.trainer} {when} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class TrainerBreak(models.Model):
    """Time off (holidays, appointments): no slot is offered inside it. Stored in UTC."""

    trainer = models.ForeignKey(Trainer, on_delete=models.CASCADE, related_name="breaks")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["trainer", "starts_at", "ends_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="break_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.trainer} off {self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%Y-%m-%d %H:%M}"
