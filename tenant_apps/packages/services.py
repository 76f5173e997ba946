"""Session packages and their credits.

A client package's balance moves only through ``_move_credits``: the balance update and its ledger row commit
together, so ``sessions_remaining`` is always the sum of the package's ``CreditTransaction`` deltas. Whoever
decides on the balance (is there a credit left? is the package still valid?) holds the package's row lock while
deciding and writing; the check constraint on the balance is the last line of defence.
"""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from shared_apps.accounts.models import User
from shared_apps.core.exceptions import ApplicationError, Conflict, ValidationFailed, full_clean_or_fail
from shared_apps.core.tenancy import studio_currency, studio_date
from tenant_apps.clients.models import Client
from tenant_apps.notifications.packages import package_notifications_write
from tenant_apps.packages.models import ClientPackage, CreditTransaction, PaymentMethod, SessionPackage
from tenant_apps.packages.selectors import package_covers, usable_client_package_ids
from tenant_apps.trainers.models import SessionType


def may_manage_client_packages(user: User) -> bool:
    """Selling a package to a client and correcting a balance: the owner's and managers'."""
    return user.is_authenticated and user.manages_studio


class NoCreditsLeft(Conflict):
    code = "no_credits_left"
    message = "This package has no credits left."


class PackageExpired(Conflict):
    code = "package_expired"
    message = "This package has expired."


class PackageNotApplicable(ApplicationError):
    code = "package_not_applicable"
    message = "This package can't pay for this session."

    def __init__(self, message: str | None = None):
        super().__init__(message, fields={"client_package": [message or self.message]})


class InsufficientBalance(Conflict):
    code = "insufficient_balance"
    message = "The package doesn't hold that many credits."


class CreditAlreadyMoved(Conflict):
    code = "credit_already_moved"
    message = "This booking's credit was already debited or refunded."


def _check_currency(currency: str) -> None:
    if not re.fullmatch(r"[A-Z]{3}", currency or ""):
        raise ValidationFailed(fields={"currency": ["Use an ISO 4217 code such as EUR."]})


# -- the ledger --------------------------------------------------------------------------------------------


def _lock(client_package_id: int) -> ClientPackage:
    # of=self: the sold package's row (read through select_related) stays free for others.
    return (
        ClientPackage.objects.select_for_update(of=("self",))
        .select_related("package", "client")
        .get(pk=client_package_id)
    )


def _move_credits(
    *,
    client_package: ClientPackage,
    kind: str,
    delta: int,
    booking=None,
    reason: str = "",
    actor: User | None = None,
) -> CreditTransaction:
    """The one way a balance changes: an F() update and its ledger row, in one transaction.

    The UPDATE takes the row lock itself, so two moves never lose one another; callers that check the balance
    first hold the lock from ``_lock`` already. A move that would take the balance below zero is stopped by the
    check constraint and comes back as ``NoCreditsLeft``.
    """
    try:
        with transaction.atomic():
            ClientPackage.objects.filter(pk=client_package.pk).update(
                sessions_remaining=F("sessions_remaining") + delta, updated=timezone.now()
            )
            move = CreditTransaction.objects.create(
                client_package=client_package,
                kind=kind,
                delta=delta,
                booking=booking,
                booking_round=booking.credit_round if booking is not None else 0,
                reason=reason,
                actor=actor,
            )
    except IntegrityError as error:
        if "client_package_balance_not_negative" in str(error):
            raise NoCreditsLeft() from error
        if "credit_once_per_booking_kind" in str(error):
            raise CreditAlreadyMoved() from error
        raise
    client_package.refresh_from_db(fields=["sessions_remaining", "updated"])
    return move


# -- packages on sale --------------------------------------------------------------------------------------

_PACKAGE_FIELDS = {"name", "description", "sessions_count", "price", "currency", "validity_days", "is_active"}


def _save_package(package: SessionPackage, session_types: list[SessionType] | None) -> SessionPackage:
    _check_currency(package.currency)
    full_clean_or_fail(package)
    package.save()
    if session_types is not None:
        package.session_types.set(session_types)
    return package


@transaction.atomic
def package_create(
    *,
    name: str,
    sessions_count: int,
    price: Decimal,
    validity_days: int,
    description: str = "",
    currency: str | None = None,
    session_types: list[SessionType] | None = None,
    is_active: bool = True,
) -> SessionPackage:
    """A package the studio sells: ``sessions_count`` credits valid ``validity_days`` days from purchase, for
    the listed session types (none listed: every session type)."""
    package = SessionPackage(
        name=name,
        description=description,
        sessions_count=sessions_count,
        price=price,
        currency=currency or studio_currency(),
        validity_days=validity_days,
        is_active=is_active,
    )
    return _save_package(package, session_types or [])


@transaction.atomic
def package_update(
    *, package: SessionPackage, session_types: list[SessionType] | None = None, **changes
) -> SessionPackage:
    """Changes apply to future sales only: packages already sold keep their credits and expiry date."""
    unknown = set(changes) - _PACKAGE_FIELDS
    if unknown:
        raise ValueError(f"not package fields: {unknown}")
    for field, value in changes.items():
        setattr(package, field, value)
    return _save_package(package, session_types)


@transaction.atomic
def package_deactivate(*, package: SessionPackage) -> SessionPackage:
    """The package is no longer sold; packages already sold keep working until they expire."""
    package.is_active = False
    package.save(update_fields=["is_active", "updated"])
    return package


# -- selling and correcting --------------------------------------------------------------------------------


@transaction.atomic
def package_assign(
    *,
    package: SessionPackage,
    client: Client,
    payment_method: str,
    amount_paid: Decimal,
    purchased_at: datetime | None = None,
    sold_by: User | None = None,
    now: datetime | None = None,
) -> ClientPackage:
    """Record the sale of ``package`` to ``client`` and credit its sessions through a purchase ledger row.

    The credits can be used up to and including ``validity_days`` days after the purchase day, in the
    studio's zone.
    """
    now = now or timezone.now()
    purchased_at = now if purchased_at is None else purchased_at
    problems: dict[str, list[str]] = {}
    if not package.is_active:
        problems["package"] = ["This package is no longer sold."]
    if not client.is_active:
        problems["client"] = ["This client is inactive."]
    if payment_method not in PaymentMethod.values:
        problems["payment_method"] = [f"Choose one of: {', '.join(PaymentMethod.values)}."]
    if amount_paid is None or Decimal(amount_paid) < 0:
        problems["amount_paid"] = ["The amount paid can't be negative."]
    if timezone.is_naive(purchased_at):
        problems["purchased_at"] = ["Give the time with its offset, e.g. 2026-01-05T09:00:00Z."]
    elif purchased_at > now:
        problems["purchased_at"] = ["A sale can't be recorded in the future."]
    if problems:
        raise ValidationFailed(fields=problems)

    client_package = ClientPackage(
        client=client,
        package=package,
        sessions_remaining=0,
        purchased_at=purchased_at,
        expiry_date=studio_date(purchased_at) + timedelta(days=package.validity_days),
        amount_paid=amount_paid,
        currency=package.currency,
        payment_method=payment_method,
        sold_by=sold_by,
    )
    full_clean_or_fail(client_package, exclude=["client", "package", "sold_by"])
    client_package.save()
    _move_credits(
        client_package=client_package,
        kind=CreditTransaction.Kind.PURCHASE,
        delta=package.sessions_count,
        actor=sold_by,
        reason=f"{package.name}: {package.sessions_count} sessions",
    )
    # The client's receipt and expiry reminder, in the sale's transaction (the outbox).
    package_notifications_write(client_package=client_package, now=now)
    return client_package


def _is_expired(client_package: ClientPackage, on_date: date) -> bool:
    return client_package.status == ClientPackage.Status.EXPIRED or client_package.expiry_date < on_date


@transaction.atomic
def client_package_adjust(
    *, client_package: ClientPackage, delta: int, reason: str, actor: User | None, today: date | None = None
) -> ClientPackage:
    """A manual correction of the balance, with the reason in the ledger. It can't take the balance below zero,
    and an expired package is not corrected (its credits would be gone again at the next expiry run)."""
    problems: dict[str, list[str]] = {}
    if not delta:
        problems["delta"] = ["Give a number of credits to add (positive) or remove (negative)."]
    if not (reason or "").strip():
        problems["reason"] = ["Say why the balance is corrected."]
    if problems:
        raise ValidationFailed(fields=problems)
    today = today or studio_date(timezone.now())
    client_package = _lock(client_package.pk)
    if _is_expired(client_package, today):
        raise PackageExpired("This package has expired; its balance can't be corrected.")
    if client_package.sessions_remaining + delta < 0:
        raise InsufficientBalance(
            f"The package holds {client_package.sessions_remaining} credits; {-delta} can't be taken from it."
        )
    _move_credits(
        client_package=client_package,
        kind=CreditTransaction.Kind.ADJUSTMENT,
        delta=delta,
        reason=reason.strip(),
        actor=actor,
    )
    return client_package


def package_expire_due(*, today: date | None = None) -> int:
    """Expire every client package of the current studio past its expiry date: its remaining credits leave
    through an expiry ledger row and it is marked expired. Returns how many packages changed.

    Idempotent: a package already expired has nothing left and is expired already, so a second run finds
    nothing to do. Each package is its own transaction, so a long run holds each lock only briefly.
    """
    today = today or studio_date(timezone.now())
    due = ClientPackage.objects.filter(expiry_date__lt=today).filter(
        Q(status=ClientPackage.Status.ACTIVE) | Q(sessions_remaining__gt=0)
    )
    changed = 0
    for client_package_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            client_package = ClientPackage.objects.select_for_update().get(pk=client_package_id)
            if client_package.sessions_remaining > 0:
                _move_credits(
                    client_package=client_package,
                    kind=CreditTransaction.Kind.EXPIRY,
                    delta=-client_package.sessions_remaining,
                    reason=f"Expired after {client_package.expiry_date.isoformat()}.",
                )
            if client_package.status != ClientPackage.Status.EXPIRED:
                client_package.status = ClientPackage.Status.EXPIRED
                client_package.save(update_fields=["status", "updated"])
            changed += 1
    return changed


# -- paying for bookings (called by the booking service, inside its transaction) ---------------------------


def client_package_for_booking(
    *,
    client: Client,
    session_type: SessionType,
    start_time: datetime,
    client_package: ClientPackage | None = None,
) -> ClientPackage | None:
    """The package that pays for a booking, row-locked until the booking's transaction ends; None when the
    session is booked without credits.

    A named package must belong to the client, cover the session type, be valid on the session's day and hold
    a credit. Without one, the client's usable package that expires first is taken (ties: the one sold first,
    by id), so credits are spent before they lapse; with none usable (none left, or only expired ones), nothing
    is and the booking is unpaid. The booking service calls this under the trainer's lock: trainer first, then
    package, always; several packages of one client are locked in that same order, so two bookings never wait
    on each other crosswise.
    """
    on_date = studio_date(start_time)
    if client_package is not None:
        client_package = _lock(client_package.pk)
        if client_package.client_id != client.pk:
            raise PackageNotApplicable("This package belongs to another client.")
        if not package_covers(client_package=client_package, session_type=session_type):
            raise PackageNotApplicable("This package doesn't pay for this session type.")
        if _is_expired(client_package, on_date):
            raise PackageExpired(
                f"This package expired on {client_package.expiry_date.isoformat()}, before this session."
                if client_package.expiry_date < on_date
                else None
            )
        if client_package.sessions_remaining <= 0:
            raise NoCreditsLeft()
        return client_package

    for candidate in usable_client_package_ids(client=client, session_type=session_type, on_date=on_date):
        client_package = _lock(candidate)
        # Looked at without the lock: a concurrent booking may have spent the last credit since. Then the next
        # one pays, as it would have a moment later.
        if client_package.sessions_remaining > 0 and not _is_expired(client_package, on_date):
            return client_package
    return None


def client_package_debit(*, client_package: ClientPackage, booking, actor: User | None) -> CreditTransaction:
    """One credit for ``booking`` in its current credit round; ``client_package`` comes locked from
    ``client_package_for_booking``."""
    return _move_credits(
        client_package=client_package, kind=CreditTransaction.Kind.BOOKING, delta=-1, booking=booking, actor=actor
    )


def client_package_refund(*, booking, actor: User | None, reason: str = "") -> CreditTransaction:
    """Give back the credit that paid for ``booking`` (a timely or studio cancellation, a lenient late cancel or
    no-show); at most once per booking and credit round."""
    return _move_credits(
        client_package=booking.client_package,
        kind=CreditTransaction.Kind.REFUND,
        delta=1,
        booking=booking,
        reason=reason,
        actor=actor,
    )


def client_package_check_date(*, client_package: ClientPackage, start_time: datetime) -> None:
    """A booking paid by ``client_package`` can't move past the package's last day."""
    if client_package.expiry_date < studio_date(start_time):
        raise PackageExpired(
            f"The package paying for this booking expires on {client_package.expiry_date.isoformat()}; "
            "choose a time before then."
        )
