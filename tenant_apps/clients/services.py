from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import DataError, IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from shared_apps.accounts.models import Role, User, UserManager
from shared_apps.core.exceptions import ApplicationError, Forbidden, ValidationFailed, error_body, full_clean_or_fail
from shared_apps.core.signals import calendar_data_changed
from shared_apps.core.tasks import queue_task_on_commit
from tenant_apps.clients import csv_io
from tenant_apps.clients.models import Client, ClientImport, ClientNote, ImportStatus
from tenant_apps.clients.selectors import client_list

EMAIL_TAKEN = "A client with this email already exists."
IMPORT_BATCH = 1000
IMPORT_FIELDS = ["first_name", "last_name", "phone", "fitness_level", "tags", "notes", "is_active"]


def _save_unique(client: Client, **save_kwargs) -> None:
    try:
        # The case-insensitive unique constraint settles two writers racing for one address.
        with transaction.atomic():
            client.save(**save_kwargs)
    except IntegrityError as error:
        raise ValidationFailed(fields={"email": [EMAIL_TAKEN]}) from error


class ClientCreateManagersOnly(Forbidden):
    message = "Only the owner or a manager can add a client."


def may_create_clients(user: User) -> bool:
    """Adding a client is the owner's and managers' call: a trainer finds theirs among the studio's clients."""
    return user.is_authenticated and user.manages_studio


def may_change_clients(user: User) -> bool:
    """Editing or deactivating a client, importing and exporting them: the owner's and managers' (a trainer
    reads the clients they train)."""
    return user.is_authenticated and user.manages_studio


def may_erase_clients(user: User) -> bool:
    """Erasing a client's personal data can't be undone: the owner's call alone."""
    return user.is_authenticated and user.role == Role.OWNER


@transaction.atomic
def client_create(
    *,
    email: str,
    first_name: str,
    last_name: str = "",
    phone: str = "",
    user: User | None = None,
    actor: User | None = None,
    **profile,
) -> Client:
    """A client of the studio; ``user`` is their own account, if any. ``actor``, when a person adds them (the API,
    the desk), must be one who may (``may_create_clients``); none for the system and a client's own sign-up."""
    if actor is not None and not may_create_clients(actor):
        raise ClientCreateManagersOnly()
    client = Client(
        email=UserManager.normalize_email(email),
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        user=user,
        **profile,
    )
    if Client.objects.filter(email__iexact=client.email).exists():
        raise ValidationFailed(fields={"email": [EMAIL_TAKEN]})
    # The email's uniqueness is the constraint's, checked on save (a race there is a clean 400 too).
    full_clean_or_fail(client, validate_constraints=False)
    _save_unique(client)
    return client


_EDITABLE = {
    "email", "first_name", "last_name", "phone", "fitness_level", "goals", "preferences", "primary_trainer", "notes",
    "tags", "is_active",
}  # fmt: skip


@transaction.atomic
def client_update(*, client: Client, **changes) -> Client:
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ValueError(f"not client fields: {unknown}")
    if client.erased_at:
        raise ApplicationError("This client's data was erased; the record can't be edited.")
    if "email" in changes:
        changes["email"] = UserManager.normalize_email(changes["email"])
        if Client.objects.filter(email__iexact=changes["email"]).exclude(pk=client.pk).exists():
            raise ValidationFailed(fields={"email": [EMAIL_TAKEN]})
        if changes["email"].lower() != client.email.lower():
            # A new address hasn't bounced: mail goes to it again (the outbox skips a bounced one). A change of
            # case only is the same mailbox, still bouncing.
            changes |= {"email_bounced_at": None, "email_bounce_reason": ""}
    if "phone" in changes and str(changes["phone"] or "") != str(client.phone or "") and client.sms_opt_in:
        # Consent to texts was given for the old number: a new one needs its own (My account → Notifications).
        changes |= {"sms_opt_in": False, "sms_consent_at": None, "sms_consent_source": ""}
    for name, value in changes.items():
        setattr(client, name, value)
    # The email's uniqueness is the constraint's, checked on save (a race there is a clean 400 too).
    full_clean_or_fail(client, validate_constraints=False)
    _save_unique(client)
    return client


@transaction.atomic
def client_deactivate(*, client: Client) -> Client:
    """The client is no longer listed as active; bookings, packages and history stay."""
    client.is_active = False
    client.save(update_fields=["is_active", "updated"])
    return client


@transaction.atomic
def client_erase(*, client: Client) -> Client:
    """Honour a data-erasure request: personal data goes, bookings and payments stay countable.

    The record keeps its id (so bookings and sales still add up) but no name, contact or free text; its
    account, if any, is anonymised and closed; notes written about the client are deleted.
    """
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.erased_at:
        return client
    placeholder = f"erased-{client.pk}@erased.invalid"
    if client.user_id:
        User.objects.filter(pk=client.user_id).update(
            email=f"erased-user-{client.user_id}@erased.invalid",
            first_name="",
            last_name="",
            phone="",
            is_active=False,
            password=make_password(None),  # unusable
        )
        apps.get_model("account", "EmailAddress").objects.filter(user_id=client.user_id).delete()
        apps.get_model("authtoken", "Token").objects.filter(user_id=client.user_id).delete()
    ClientNote.objects.filter(client=client).delete()
    # Free text about the person goes; the bookings and credit movements themselves stay countable.
    apps.get_model("bookings", "Booking").objects.filter(client=client).update(notes="", cancellation_reason="")
    apps.get_model("bookings", "BookingEvent").objects.filter(booking__client=client).update(note="")
    apps.get_model("packages", "CreditTransaction").objects.filter(client_package__client=client).update(reason="")
    for name, value in {
        "email": placeholder, "first_name": "Erased", "last_name": "", "phone": "", "fitness_level": "",
        "goals": [], "preferences": {}, "notes": "", "tags": [], "is_active": False, "user": None,
        "erased_at": timezone.now(),
        # The ESP's bounce text quotes the old address.
        "email_bounced_at": None, "email_bounce_reason": "",
        "sms_opt_in": False, "sms_consent_at": None, "sms_consent_source": "", "timezone": "",
    }.items():  # fmt: skip
        setattr(client, name, value)
    client.save()
    return client


@transaction.atomic
def client_note_add(*, client: Client, author: User, text: str) -> ClientNote:
    text = text.strip()
    if not text:
        raise ValidationFailed(fields={"text": ["The note is empty."]})
    return ClientNote.objects.create(client=client, author=author, text=text)


class EmailNotVerified(ApplicationError):
    status_code = 403
    code = "email_not_verified"
    message = "Confirm your email address first: follow the link we mailed you."


def _email_verified(user: User) -> bool:
    return (
        apps.get_model("account", "EmailAddress")
        .objects.filter(user=user, email__iexact=user.email, verified=True)
        .exists()
    )


@transaction.atomic
def client_for_user(*, user: User) -> Client:
    """The client record of a signed-up client: linked already, created now, or matched by email.

    Matching an existing record hands its bookings and credits to the account, so it waits until the
    account has proved it owns the address (EmailNotVerified until then).
    """
    client = Client.objects.select_for_update().filter(user=user).first()
    if client is not None:
        return client
    client = Client.objects.select_for_update().filter(email__iexact=user.email, user__isnull=True).first()
    if client is not None:
        if not _email_verified(user):
            raise EmailNotVerified()
        client.user = user
        client.save(update_fields=["user", "updated"])
        return client
    return client_create(
        email=user.email,
        first_name=user.first_name or user.email.split("@")[0],
        last_name=user.last_name,
        phone=user.phone,
        user=user,
    )


# -- CSV import ------------------------------------------------------------------------------------------


class ImportRefused(ApplicationError):
    code = "invalid_import"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[csv_io.RowError] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "errors": [{"row": e.row, "field": e.field, "message": e.message} for e in self.errors],
        }


@dataclass
class _ImportPlan:
    result: ImportResult
    to_create: list[Client] = field(default_factory=list)
    to_update: list[Client] = field(default_factory=list)


def _import_parse(content: bytes) -> csv_io.ParsedFile:
    try:
        return csv_io.parse(content)
    except csv_io.CsvUnreadable as error:
        raise ImportRefused(str(error), fields={"file": [str(error)]}) from error


def _import_plan(
    parsed: csv_io.ParsedFile, *, lock: bool = False, progress: Callable[[int], object] | None = None
) -> _ImportPlan:
    """Match the file's rows with the stored clients: what to create, what to update, and every row's errors.

    With ``lock`` the matched clients stay locked until the transaction ends, so the values compared are the
    values overwritten. ``progress`` is told after each batch how many of the parsed rows have been matched.
    """
    plan = _ImportPlan(result=ImportResult(errors=list(parsed.errors)))
    result = plan.result
    for start in range(0, len(parsed.rows), IMPORT_BATCH):
        batch = parsed.rows[start : start + IMPORT_BATCH]
        # Matched as the unique constraint compares emails, case-insensitively (and its index serves this).
        clients = Client.objects.alias(email_lower=Lower("email")).filter(
            email_lower__in=[values["email"] for _, values in batch]
        )
        if lock:
            clients = clients.select_for_update().order_by("pk")
        existing = {client.email.lower(): client for client in clients}
        for number, values in batch:
            client = existing.get(values["email"])
            if client is None:
                if not values.get("first_name"):
                    result.errors.append(csv_io.RowError(number, "first_name", "A new client needs a first name."))
                    continue
                plan.to_create.append(Client(**values))
            elif client.erased_at:
                result.errors.append(csv_io.RowError(number, "email", "This client's data was erased."))
            elif any(getattr(client, name) != value for name, value in values.items() if name != "email"):
                for name, value in values.items():
                    setattr(client, name, value)
                plan.to_update.append(client)
            else:
                result.skipped += 1
        if progress is not None:
            progress(start + len(batch))
    result.errors.sort(key=lambda error: (error.row, error.field))
    result.created, result.updated = len(plan.to_create), len(plan.to_update)
    return plan


def _refuse_if_errors(result: ImportResult) -> None:
    if result.errors:
        raise ImportRefused(
            f"{len({e.row for e in result.errors})} rows have errors; nothing was imported.", extra=result.as_dict()
        )


def _import_write(plan: _ImportPlan) -> None:
    try:
        with transaction.atomic():
            Client.objects.bulk_create(plan.to_create, batch_size=IMPORT_BATCH)
            Client.objects.bulk_update(plan.to_update, IMPORT_FIELDS, batch_size=IMPORT_BATCH)
            if plan.to_update:  # names the desk's calendar shows may have changed, with no model signal sent
                calendar_data_changed.send(sender=Client)
    except IntegrityError as error:
        # Someone added one of these emails while the file was being read.
        raise ImportRefused("Some emails were added meanwhile; import the file again.") from error
    except DataError as error:
        # Every value was checked; should one still not fit its column, the file is refused, not a 500.
        raise ImportRefused("A value in the file doesn't fit; nothing was imported.") from error


@transaction.atomic
def client_import_csv(*, content: bytes, dry_run: bool = False) -> ImportResult:
    """Create or update clients from a CSV file, matched by email; all or nothing.

    The whole file is checked before anything is written: with any error, nothing is. An empty cell leaves
    the stored value alone, and a row that changes nothing counts as skipped, so importing the same file
    twice changes nothing the second time. Queries are per batch of rows, not per row.
    """
    plan = _import_plan(_import_parse(content), lock=not dry_run)
    _refuse_if_errors(plan.result)
    if not dry_run:
        _import_write(plan)
    return plan.result


@transaction.atomic
def client_import_start(
    *, content: bytes, dry_run: bool = False, file_name: str = "", created_by: User | None = None
) -> ClientImport:
    """Keep the file as a queued job and have Celery import it once this transaction has committed.

    For files too large to import within a request; the job is run by ``client_import_run``. Should the
    broker be out of reach, the job stays queued and ``client_import_sweep`` queues it again.
    """
    from tenant_apps.clients.tasks import run_client_import

    job = ClientImport.objects.create(
        content=content, dry_run=dry_run, file_name=file_name[:255], created_by=created_by
    )
    queue_task_on_commit(run_client_import, import_id=job.pk)
    return job


def _job_update(jobs, **fields) -> int:
    # Queryset updates skip auto_now: ``updated`` is what tells a live job from one whose worker was lost.
    return jobs.update(updated=timezone.now(), **fields)


class _JobTakenAway(Exception):
    """The sweep gave the job up as lost while it was still running: its import must not be written."""


def client_import_run(*, import_id: int) -> ClientImport | None:
    """Run a queued import job; None when it isn't queued (a duplicate delivery, a job already run).

    Every row is checked first, outside any transaction, so the progress written after each batch is seen
    while the job runs; then the rows are matched again under lock and written in one transaction, which
    marks the job done too: a job still ``running`` has written nothing. As with ``client_import_csv``, any
    error means nothing is written, and the report is what that import answers.
    """
    jobs = ClientImport.objects.filter(pk=import_id)
    # A conditional update claims the job: of two deliveries of one task, only one finds it queued.
    if not _job_update(jobs.filter(status=ImportStatus.QUEUED), status=ImportStatus.RUNNING, started_at=timezone.now()):
        return None
    job = jobs.get()
    try:
        parsed = _import_parse(bytes(job.content))
        # Rows the reader refused are done already; the others are done once matched with the stored clients.
        rows_with_errors = len({error.row for error in parsed.errors})
        _job_update(jobs, rows_total=rows_with_errors + len(parsed.rows), rows_done=rows_with_errors)
        plan = _import_plan(parsed, progress=lambda matched: _job_update(jobs, rows_done=rows_with_errors + matched))
        _refuse_if_errors(plan.result)
        with transaction.atomic():
            # Locked first, so the sweep can't give the job up between this check and the commit.
            if not list(jobs.filter(status=ImportStatus.RUNNING).select_for_update().values_list("pk")):
                raise _JobTakenAway()
            if not job.dry_run:
                # Clients may have changed while the file was checked: what is written is matched anew.
                plan = _import_plan(parsed, lock=True)
                _refuse_if_errors(plan.result)
                _import_write(plan)
            _import_finish(jobs, status=ImportStatus.SUCCEEDED, report=plan.result.as_dict())
    except _JobTakenAway:
        pass
    except ImportRefused as refusal:
        report = {**refusal.extra, **error_body(refusal.code, refusal.message, refusal.fields)}
        _import_finish(jobs, status=ImportStatus.FAILED, report=report, error=refusal.message)
    except Exception:
        _import_finish(jobs, status=ImportStatus.FAILED, error="The import stopped on an error; nothing was imported.")
        raise
    return jobs.get()


def _import_finish(jobs, *, status: str, report: dict | None = None, error: str = "") -> int:
    # The file is dropped once it has been imported or refused: the client list isn't kept a second time.
    # Only a running job is finished: one the sweep has given up on keeps the sweep's answer.
    return _job_update(
        jobs.filter(status=ImportStatus.RUNNING),
        status=status,
        report=report,
        error=error,
        content=b"",
        finished_at=timezone.now(),
    )


IMPORT_REQUEUE_AFTER = timedelta(minutes=2)
IMPORT_LOST_AFTER = timedelta(minutes=30)
IMPORT_LOST = "The import stopped without finishing (its worker was lost); nothing was imported. Start it again."


def client_import_sweep(*, now: datetime | None = None) -> tuple[int, int]:
    """Queue again the jobs still queued a while after they were uploaded (or last queued); give up the
    running ones that have shown no progress for long. Answers how many were queued again and given up.

    A job stays queued when its task couldn't be queued (the broker was out of reach as the upload
    committed) or was lost before a worker took it; queuing it again is harmless, since only one delivery
    claims it. A running job writes progress after every batch of rows, so one unchanged for half an hour
    lost its worker: it is failed, and its file dropped, like any finished job's.
    """
    from tenant_apps.clients.tasks import run_client_import

    now = now or timezone.now()
    # A conditional update: a job that wrote progress (or finished) meanwhile is left alone; one whose import
    # is committing holds its row lock, and is no longer running once this update gets the row.
    lost = _job_update(
        ClientImport.objects.filter(status=ImportStatus.RUNNING, updated__lt=now - IMPORT_LOST_AFTER),
        status=ImportStatus.FAILED,
        error=IMPORT_LOST,
        content=b"",
        finished_at=now,
    )
    waiting = ClientImport.objects.filter(status=ImportStatus.QUEUED, updated__lt=now - IMPORT_REQUEUE_AFTER)
    import_ids = list(waiting.values_list("pk", flat=True))
    # Touched, so that a job is queued again no sooner than IMPORT_REQUEUE_AFTER after this.
    _job_update(ClientImport.objects.filter(pk__in=import_ids, status=ImportStatus.QUEUED))
    for import_id in import_ids:
        run_client_import.delay(import_id=import_id)
    return len(import_ids), lost


def client_export_csv(*, user: User) -> str:
    """The CSV of every client ``user`` may see, erased ones left out: what the API and the desk download."""
    clients = client_list(user=user).filter(erased_at__isnull=True).order_by("id")
    return csv_io.export(client_export_rows(clients))


def client_export_rows(clients) -> list[dict]:
    return [
        {column: getattr(client, column) for column in csv_io.COLUMNS}
        | {"phone": str(client.phone) if client.phone else ""}
        for client in clients
    ]
