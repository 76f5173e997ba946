from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Lower
from phonenumber_field.modelfields import PhoneNumberField

from shared_apps.core.validators import (
    PERSON_NAME_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TAGS_MAX_COUNT,
    TEXT_MAX_LENGTH,
    validate_free_json,
    validate_goals,
    validate_name,
    validate_timezone,
)


class FitnessLevel(models.TextChoices):
    BEGINNER = "beginner", "Beginner"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"


class ConsentSource(models.TextChoices):
    ACCOUNT = "account", "The client, in their account"
    BOOKING = "booking", "The client, when booking"
    STAFF = "staff", "Staff, on the client's word"
    SMS_START = "sms_start", "A START reply"


class Client(models.Model):
    """A person the studio trains. May have an account (a client who signed up), matched by email."""

    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=PERSON_NAME_MAX_LENGTH, validators=[validate_name])
    last_name = models.CharField(max_length=PERSON_NAME_MAX_LENGTH, blank=True, validators=[validate_name])
    phone = PhoneNumberField(blank=True)  # stored E.164
    fitness_level = models.CharField(max_length=16, choices=FitnessLevel.choices, blank=True)
    goals = models.JSONField(default=list, blank=True, validators=[validate_goals, validate_free_json])
    preferences = models.JSONField(default=dict, blank=True, validators=[validate_free_json])
    primary_trainer = models.ForeignKey(
        "trainers.Trainer", on_delete=models.SET_NULL, null=True, blank=True, related_name="primary_clients"
    )
    # A TextField's max_length only sizes form widgets; the validator is what full_clean checks.
    notes = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)])
    tags = ArrayField(models.CharField(max_length=TAG_MAX_LENGTH), size=TAGS_MAX_COUNT, default=list, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="client_profile"
    )
    # The zone the client reads times in (their mails and SMS); blank: the trainer's.
    timezone = models.CharField(max_length=64, blank=True, validators=[validate_timezone])
    # Channels: booking mails always go (they are the booking's record); reminders by email unless turned off,
    # by SMS only with consent (when and how it was given) to the number in ``phone``.
    email_reminders = models.BooleanField(default=True)
    sms_opt_in = models.BooleanField(default=False)
    sms_consent_at = models.DateTimeField(null=True, blank=True)
    sms_consent_source = models.CharField(max_length=16, choices=ConsentSource.choices, blank=True)
    # A hard bounce (the ESP's tracking webhook): no mail goes to the address until it is changed.
    email_bounced_at = models.DateTimeField(null=True, blank=True)
    email_bounce_reason = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    # Set when the client's personal data was erased on request; bookings and payments stay countable.
    erased_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [models.UniqueConstraint(Lower("email"), name="clients_client_email_ci_unique")]
        indexes = [GinIndex(fields=["tags"], name="clients_client_tags_gin")]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    @property
    def full_name(self) -> str:
        return str(self)


class ClientNote(models.Model):
    """The studio's communication history with a client: calls, messages, observations."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="client_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    text = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"Note on {self.client_id}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ClientImport(models.Model):
    """A CSV import too large to run within a request, run by Celery instead.

    The file is kept in the row, not in file storage: the worker is another process (another machine in
    production), and the row is written in the same transaction that queues the job. It is emptied once
    the job has finished, so the studio's client list doesn't linger in a second place.
    """

    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    content = models.BinaryField(editable=False)
    file_name = models.CharField(max_length=255, blank=True)
    dry_run = models.BooleanField(default=False)
    rows_total = models.PositiveIntegerField(null=True, blank=True)  # known once the file has been read
    rows_done = models.PositiveIntegerField(default=0)
    # What the synchronous import answers: its counts, or its error body with the rows' errors.
    report = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    # Written with every change of the job, progress included (queryset updates set it explicitly): a job
    # running with no change for long lost its worker; see client_import_sweep.
    updated = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"Client import {self.pk} ({self.status})"
