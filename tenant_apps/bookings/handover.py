"""A staff member leaves: their account is deactivated (shared_apps.accounts.services.staff_deactivate) and, if they
teach, the owner or a manager decides what happens to their future bookings (pending or confirmed, starting
after now):

- ``keep``: they stay with the deactivated trainer (who takes no new bookings), for the studio to sort out later;
- ``move``: each goes to another trainer at the same time, checked as a reschedule is (that trainer offers the
  session type and is free then); clients are told of the change;
- ``cancel``: each is cancelled as a studio cancellation: the credit comes back, whatever the window, and the
  client is told.

Without a choice, an account whose trainer has future bookings is not deactivated (409 with the bookings).
All or nothing: if one booking can't move, nothing changes and the answer lists every booking that couldn't.

This lives in bookings because it uses bookings' services; accounts and trainers import nothing from here.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from shared_apps.accounts.models import User
from shared_apps.accounts.services import staff_deactivate, staff_manage_check
from shared_apps.core.exceptions import ApplicationError, Conflict, ValidationFailed
from tenant_apps.availability.services import lock_trainer
from tenant_apps.bookings.models import ACTIVE_STATUSES, Booking
from tenant_apps.bookings.services import booking_cancel, booking_reschedule
from tenant_apps.trainers.models import Trainer

STUDIO_CANCELLATION_REASON = "The studio cancelled: your trainer is no longer available."


class FutureBookings(models.TextChoices):
    KEEP = "keep", "Keep them with the deactivated trainer"
    MOVE = "move", "Move them to another trainer"
    CANCEL = "cancel", "Cancel them as studio cancellations"


class FutureBookingsChoiceRequired(Conflict):
    code = "future_bookings"
    message = "This trainer has future bookings: choose whether to keep, move or cancel them (`future_bookings`)."


class BookingsNotMoved(Conflict):
    code = "bookings_not_moved"
    message = "Some bookings can't move to that trainer; nothing was changed."


@dataclass(frozen=True)
class Handover:
    """What a deactivation did: the account, the choice applied, and the future bookings it applied to."""

    user: User
    future_bookings: str | None
    bookings: list[Booking] = field(default_factory=list)


def staff_future_bookings(*, user: User, now: datetime | None = None) -> QuerySet[Booking]:
    """The active bookings of ``user``'s trainer profile that start after ``now``, soonest first."""
    return (
        Booking.objects.filter(trainer__user=user, status__in=ACTIVE_STATUSES, start_time__gt=now or timezone.now())
        .select_related("trainer", "client", "session_type")
        .order_by("start_time", "id")
    )


def staff_deactivation_preview(*, user: User, actor: User, now: datetime | None = None) -> list[Booking]:
    """The future bookings a deactivation of ``user`` would have to deal with; only for who may deactivate them."""
    staff_manage_check(actor=actor, user=user, action="deactivate")
    return list(staff_future_bookings(user=user, now=now))


def booking_summary(booking: Booking, error: ApplicationError | None = None) -> dict:
    """A booking as the preview and the 409 answers list it (with why it couldn't move, if it couldn't)."""
    summary = {"booking": booking.pk, "start_time": booking.start_time}
    if error is not None:
        summary.update(code=error.code, detail=error.message)
    return summary


def _move_all(*, bookings: list[Booking], to_trainer: Trainer, actor: User) -> None:
    failures = []
    for booking in bookings:
        try:
            # One savepoint per booking, so that a refusal leaves the transaction usable and every booking is
            # tried: the answer names all that can't move, not only the first.
            with transaction.atomic():
                booking_reschedule(booking=booking, start_time=booking.start_time, trainer=to_trainer, actor=actor)
        except ApplicationError as error:
            failures.append(booking_summary(booking, error))
    if failures:
        raise BookingsNotMoved(extra={"count": len(bookings), "bookings": failures})


@transaction.atomic
def staff_deactivate_with_bookings(
    *,
    user: User,
    actor: User,
    future_bookings: str | None = None,
    to_trainer: Trainer | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Handover:
    """Deactivate ``user``'s account, first keeping, moving (to ``to_trainer``) or cancelling their trainer
    profile's future bookings as ``future_bookings`` says. One transaction: a refusal changes nothing."""
    staff_manage_check(actor=actor, user=user, action="deactivate")
    if future_bookings is not None and future_bookings not in FutureBookings.values:
        raise ValidationFailed(fields={"future_bookings": ["Choose keep, move or cancel."]})
    if future_bookings == FutureBookings.MOVE and to_trainer is None:
        raise ValidationFailed(fields={"to_trainer": ["Name the trainer who takes the bookings over."]})
    if future_bookings != FutureBookings.MOVE and to_trainer is not None:
        raise ValidationFailed(fields={"to_trainer": ["Only bookings being moved go to another trainer."]})
    if to_trainer is not None and (to_trainer.user_id == user.pk or not to_trainer.is_active):
        raise ValidationFailed(fields={"to_trainer": ["This trainer is not taking bookings."]})

    # The account's row first, then the trainers', as every change to an account and its profile takes them
    # (trainers.services.trainer_profile_ensure); the trainers in id order, as booking_reschedule takes them.
    # Under the trainer's lock nobody books them meanwhile: the bookings found are all there are, and once the
    # profile is inactive (same transaction) none can be added.
    User.objects.select_for_update().get(pk=user.pk)
    trainer = Trainer.objects.filter(user=user).first()
    trainer_ids = {trainer.pk} if trainer is not None else set()
    if to_trainer is not None:
        trainer_ids.add(to_trainer.pk)
    for trainer_id in sorted(trainer_ids):
        lock_trainer(Trainer(pk=trainer_id))
    bookings = list(staff_future_bookings(user=user, now=now))
    if bookings and future_bookings is None:
        raise FutureBookingsChoiceRequired(
            extra={"count": len(bookings), "bookings": [booking_summary(booking) for booking in bookings]}
        )
    if bookings and future_bookings == FutureBookings.MOVE:
        _move_all(bookings=bookings, to_trainer=to_trainer, actor=actor)
    elif bookings and future_bookings == FutureBookings.CANCEL:
        for booking in bookings:
            # A staff actor makes it a studio cancellation: the credit comes back whatever the window.
            booking_cancel(booking=booking, actor=actor, reason=reason or STUDIO_CANCELLATION_REASON)
    user = staff_deactivate(user=user, actor=actor)
    return Handover(user=user, future_bookings=future_bookings, bookings=bookings)
