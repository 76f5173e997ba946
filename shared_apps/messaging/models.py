"""What the platform's messaging knows across studios (public schema): numbers that replied STOP to our SMS
sender, and each studio's SMS count per month (the billing issue caps it by plan)."""

from django.db import models


class OptOutSource(models.TextChoices):
    STOP_REPLY = "stop_reply", "STOP reply"
    CARRIER = "carrier", "Twilio error 21610"


class SmsOptOut(models.Model):
    """A number that opted out of our SMS sender. The sender is shared by every studio, and so is a STOP: no SMS
    goes to the number from any studio until it replies START."""

    phone = models.CharField(max_length=20, unique=True)  # E.164
    source = models.CharField(max_length=16, choices=OptOutSource.choices)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = "SMS opt-out"

    def __str__(self) -> str:
        return self.phone


class SmsUsage(models.Model):
    """The SMS a studio sent in a calendar month (UTC), one row per studio and month."""

    studio = models.ForeignKey("tenants.Studio", on_delete=models.CASCADE, related_name="sms_usage")
    month = models.DateField()  # the month's first day
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-month"]
        constraints = [models.UniqueConstraint(fields=["studio", "month"], name="sms_usage_studio_month_unique")]
        verbose_name = "SMS usage"
        verbose_name_plural = "SMS usage"

    def __str__(self) -> str:
        return f"{self.studio_id} {self.month:%Y-%m}: {self.count}"
