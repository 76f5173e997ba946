"""Bookings: every write takes the trainer's row lock, re-checks the slot inside the same transaction, and
leaves the exclusion constraint as the last line of defence. A lost race is a 409, never a 500.

Locks are always taken in one order: trainers (by id, when two are involved), then the booking, then the
package that pays. A booking paid by a package credit debits it in the same transaction, so two writers never
wait on each other crosswise.

How a booking is paid (``payment_state``):

- ``credit``: a credit of ``client_package`` paid. A named package must be usable; with none named, the
  client's usable package that expires first pays (ties: the one sold first), so credits go before they lapse.
- ``unpaid``: no usable package (none, none left, only expired ones): the client pays at the studio. Staff
  can later attach a package, record a payment or mark it complimentary.
- ``paid``: staff recorded a payment (method, amount and currency, who, when).
- ``complimentary``: staff waived it, or the session type costs nothing.

Who cancels decides the refund: a studio cancellation (owner, manager, trainer, or the system) always gives
the credit back; a client's gives it back when in time, or when late and the session type doesn't make late
cancellations forfeit the credit. A no-show forfeits the credit unless the session type says otherwise.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone

from shared_apps.accounts.models import Role, User
from shared_apps.core.exceptions import ApplicationError, Conflict, Forbidden, ValidationFailed
from shared_apps.core.tenancy import studio_timezone
from tenant_apps.availability import slots
from tenant_apps.availability.selectors import (
    booking_horizon,
    check_offers,
    day_span,
    offering_trainers,
    slot_rules,
    team_starts,
    trainer_busy,
    trainer_windows,
)
from tenant_apps.availability.services import lock_trainer
from tenant_apps.bookings.models import (
    ACTIVE_STATUSES,
    SESSION_PAYMENT_METHODS,
    Booking,
    BookingEvent,
    BookingStatus,
    CancelledBy,
    PaymentState,
)
from tenant_apps.clients.models import Client
from tenant_apps.notifications.services import booking_notifications_write
from tenant_apps.packages.models import ClientPackage
from tenant_apps.packages.services import (
    NoCreditsLeft,
    PackageExpired,
    PackageNotApplicable,
    client_package_check_date,
    client_package_debit,
    client_package_for_booking,
    client_package_refund,
)
from tenant_apps.trainers.models import SessionType, Trainer


class SlotUnavailable(Conflict):
    code = "slot_unavailable"
    message = "This time is no longer available."


class InvalidTransition(Conflict):
    code = "invalid_transition"
    message = "The booking can't move to that status from its current one."


class SessionNotStarted(Conflict):
    code = "session_not_started"
    message = "A session can only be marked completed or no-show once it has started."


class RescheduleWindowPassed(Conflict):
    code = "reschedule_window_passed"
    message = "It is too late to move this booking; please contact the studio."


class UndoWindowPassed(Conflict):
    code = "undo_window_passed"
    message = "It is too late to undo this."


class PaymentAlreadySettled(Conflict):
    code = "payment_already_settled"
    message = "This booking is not unpaid any more."


class BookingChanged(Conflict):
    code = "booking_changed"
    message = "The booking changed meanwhile; load it again and retry."


class NotASlot(ApplicationError):
    code = "not_a_slot"
    message = "The trainer does not offer a session starting at this time."


class StartInPast(ApplicationError):
    code = "start_in_past"
    message = "This time has already passed."


class OutsideBookingWindow(ApplicationError):
    code = "outside_booking_window"


class NotTakingBookings(ApplicationError):
    code = "not_taking_bookings"
    message = "This trainer is not taking bookings."


class OffGridStaffOnly(Forbidden):
    message = "Only the studio's staff can book or move a session outside the offered times."


class OwnCalendarOnly(Forbidden):
    code = "own_calendar_only"
    message = "Trainers book and move sessions in their own calendar only."


class TrainerChangeStaffOnly(Forbidden):
    code = "trainer_change_staff_only"
    message = (
        "A booking moves to another trainer only through the studio's staff; you can move it to another time "
        "with the same trainer."
    )


class ComplimentaryManagersOnly(Forbidden):
    message = "Only the owner or a manager can make a session complimentary."


class NoShowNotCharged(Conflict):
    code = "no_show_not_charged"
    message = "This session type doesn't charge for a no-show: there is nothing for a package to pay."


# Where each status may go; completed, cancelled and no-show are final (but for booking_undo, within its time).
TRANSITIONS = {
    BookingStatus.PENDING: {BookingStatus.CONFIRMED, BookingStatus.CANCELLED},
    BookingStatus.CONFIRMED: {BookingStatus.COMPLETED, BookingStatus.NO_SHOW, BookingStatus.CANCELLED},
}


def is_studio_actor(actor: User | None) -> bool:
    """Staff, or the system itself (no actor): they act for the studio. A client user acts for themselves."""
    return actor is None or actor.role != Role.CLIENT


def _check_actor_may_book(
    *, actor: User | None, trainer: Trainer, off_grid: bool, current_trainer_id: int | None = None
) -> None:
    """Whose calendar the caller may put a session in, whichever endpoint or page asks: the owner, a manager and
    the system any trainer's; a trainer only their own; a client any trainer's when booking, but a move of
    their booking (``current_trainer_id`` is its trainer) keeps the trainer: changing it is the studio's call.
    Off the grid is for the studio's staff only."""
    if off_grid and not is_studio_actor(actor):
        raise OffGridStaffOnly()
    if actor is None or actor.manages_studio:
        return
    if actor.role == Role.TRAINER and trainer.user_id != actor.pk:
        raise OwnCalendarOnly()
    if actor.role == Role.CLIENT and current_trainer_id is not None and trainer.pk != current_trainer_id:
        raise TrainerChangeStaffOnly(fields={"trainer": [TrainerChangeStaffOnly.message]})


def may_mark_complimentary(actor: User | None) -> bool:
    """Giving a session away is the studio's call, not a trainer's: the owner, a manager, or the system."""
    return actor is None or actor.manages_studio


def _check_bookable(*, trainer: Trainer, session_type: SessionType, client: Client | None = None) -> None:
    problems = {}
    if not trainer.is_active:
        problems["trainer"] = ["This trainer is not taking bookings."]
    if not session_type.is_active:
        problems["session_type"] = ["This session type is no longer offered."]
    if client is not None and not client.is_active:
        problems["client"] = ["This client is inactive."]
    if problems:
        message = problems.get("trainer", problems.get("session_type", ["This client is inactive."]))[0]
        raise NotTakingBookings(message, fields=problems)


def _check_not_blocked(*, start: datetime, rules, busy: list, breaks: list, message: str | None = None) -> None:
    """No booking (with its buffers and the session type's) or break keeps the trainer from starting at ``start``."""
    forbidden = slots.forbidden_starts(rules, busy, breaks)
    if slots.is_forbidden(start, forbidden, [interval.start for interval in forbidden]):
        raise SlotUnavailable(message)


def _check_slot(
    *, trainer: Trainer, session_type: SessionType, start: datetime, now: datetime, exclude_booking_id=None
) -> None:
    """The same rules available_slots applies, for one start: notice, horizon, windows (DST included),
    breaks and buffered bookings. Runs under the trainer's lock."""
    _check_when(session_type=session_type, start=start, now=now)
    zone = ZoneInfo(trainer.timezone)
    day = start.astimezone(zone).date()
    rules = slot_rules(session_type)
    windows = trainer_windows(trainer=trainer, first_day=day, last_day=day)
    if start not in slots.candidate_starts(windows, zone, day, day, rules):
        raise NotASlot(fields={"start_time": [NotASlot.message]})
    since, until = day_span(zone=zone, first_day=day, last_day=day, rules=rules)
    busy, breaks = trainer_busy(trainer=trainer, since=since, until=until, exclude_booking_id=exclude_booking_id)
    _check_not_blocked(start=start, rules=rules, busy=busy, breaks=breaks)


def _check_when(*, session_type: SessionType, start: datetime, now: datetime) -> None:
    """The session type's rules for a start, whoever teaches it: not past, past the notice, before the horizon."""
    if start <= now:
        raise StartInPast(fields={"start_time": [StartInPast.message]})
    earliest, latest = booking_horizon(session_type, now)
    if start < earliest:
        raise OutsideBookingWindow(
            f"This session needs {session_type.min_notice_minutes} minutes' notice.",
            fields={"start_time": ["Too soon to book."]},
        )
    if start > latest:
        raise OutsideBookingWindow(
            f"This session can be booked at most {session_type.max_advance_days} days ahead.",
            fields={"start_time": ["Too far ahead to book."]},
        )


def _check_free(*, trainer: Trainer, session_type: SessionType, start: datetime, exclude_booking_id=None) -> None:
    """Off the grid (staff only): no window, grid, notice or horizon, but the trainer must be free: no booking
    (buffers on both sides, as in ``_check_slot``), no break, and for a past session none that took place then.
    Runs under the trainer's lock."""
    rules = slot_rules(session_type)
    # Wide enough for the longest session (12 h) and buffers (4 h each side).
    since, until = start - timedelta(days=1), start + timedelta(days=1)
    busy, breaks = trainer_busy(trainer=trainer, since=since, until=until, exclude_booking_id=exclude_booking_id)
    held = Booking.objects.filter(
        trainer=trainer, status=BookingStatus.COMPLETED, blocked_until__gt=since, blocked_from__lt=until
    ).exclude(pk=exclude_booking_id)
    busy += [
        slots.Busy(start=row[0], end=row[1], blocked_from=row[2], blocked_until=row[3])
        for row in held.values_list("start_time", "end_time", "blocked_from", "blocked_until")
    ]
    _check_not_blocked(
        start=start, rules=rules, busy=busy, breaks=breaks, message="The trainer is not free at this time."
    )


def _times(session_type: SessionType, start: datetime) -> dict[str, datetime]:
    end = start + timedelta(minutes=session_type.duration_minutes)
    return {
        "start_time": start,
        "end_time": end,
        "blocked_from": start - timedelta(minutes=session_type.buffer_before_minutes),
        "blocked_until": end + timedelta(minutes=session_type.buffer_after_minutes),
    }


def _save_times(booking: Booking) -> None:
    """Save a booking's new times. Only within a service's own transaction (its savepoint when nested): a
    refusal here leaves the transaction aborted, and the error rolls the service back."""
    try:
        booking.save()
    except IntegrityError as error:
        # Only a write that bypassed the trainer lock can get here; the constraint still says no.
        if "booking_no_overlap_per_trainer" in str(error):
            raise SlotUnavailable() from error
        raise


def _record(booking: Booking, kind: str, *, actor: User | None, **fields) -> BookingEvent:
    return BookingEvent.objects.create(booking=booking, kind=kind, actor=actor, **fields)


def _notify_client(booking: Booking, event: str, *, now: datetime | None = None, **extra) -> bool:
    """Write the client's message for ``event`` (and move the reminders) into the outbox, in this transaction;
    it is sent once the transaction commits. True when one was written. ``now``: the service's own, so the
    reminder rule reads the same clock as the booking's checks."""
    booking_notifications_write(booking=booking, event=event, now=now, **extra)
    return True


def _utc(moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        raise ValidationFailed(fields={"start_time": ["Give the time with its offset, e.g. 2026-01-05T09:00:00Z."]})
    return moment.astimezone(UTC)


def _count_session(trainer_id: int, step: int) -> None:
    if step > 0:
        Trainer.objects.filter(pk=trainer_id).update(total_sessions=F("total_sessions") + step)
    else:
        Trainer.objects.filter(pk=trainer_id, total_sessions__gt=0).update(total_sessions=F("total_sessions") + step)


@transaction.atomic
def booking_create(
    *,
    trainer: Trainer,
    client: Client,
    session_type: SessionType,
    start_time: datetime,
    notes: str = "",
    client_package: ClientPackage | None = None,
    created_by: User | None = None,
    off_grid: bool = False,
    now: datetime | None = None,
    pay_with_credit: bool = True,
) -> Booking:
    """Book ``client`` with ``trainer``: confirmed at once, or pending when the session type asks for it.

    Paid by a credit of ``client_package`` when named, else of the client's usable package that expires first
    (ties: the lower id); with none usable the booking is ``unpaid`` (a session type that costs nothing:
    ``complimentary``, and no credit is taken unless a package is named). ``pay_with_credit=False`` (the client
    chose to pay at the studio) takes no credit: ``unpaid``.

    ``created_by`` decides what may be booked (``_check_actor_may_book``): a trainer books into their own
    calendar only; ``off_grid`` is for staff: any start, as long as the trainer is free then; the windows, the
    grid, the notice and the horizon don't apply. A session that already ended is recorded as ``completed`` (a
    walk-in entered afterwards, history moved in), its credit debited and the trainer's count raised; no mail
    is sent.
    """
    now = now or timezone.now()
    start = _utc(start_time)
    _check_actor_may_book(actor=created_by, trainer=trainer, off_grid=off_grid)
    trainer = lock_trainer(trainer)
    _check_bookable(trainer=trainer, session_type=session_type, client=client)
    check_offers(trainer=trainer, session_type=session_type)
    times = _times(session_type, start)
    if off_grid:
        _check_free(trainer=trainer, session_type=session_type, start=start)
    else:
        _check_slot(trainer=trainer, session_type=session_type, start=start, now=now)
    is_free = Decimal(session_type.price) == 0
    paid_by = None
    if client_package is not None or (pay_with_credit and not is_free):
        paid_by = client_package_for_booking(
            client=client, session_type=session_type, start_time=start, client_package=client_package
        )
    if paid_by is not None:
        payment_state = PaymentState.CREDIT
    else:
        payment_state = PaymentState.COMPLIMENTARY if is_free else PaymentState.UNPAID

    if off_grid and times["end_time"] <= now:
        status = BookingStatus.COMPLETED
    elif session_type.requires_confirmation and start > now:
        status = BookingStatus.PENDING
    else:
        status = BookingStatus.CONFIRMED
    booking = Booking(
        trainer=trainer,
        client=client,
        session_type=session_type,
        status=status,
        notes=notes,
        price=session_type.price,
        currency=session_type.currency,
        payment_state=payment_state,
        client_package=paid_by,
        created_by=created_by,
        # Its confirmation is written to the outbox below, in this transaction.
        confirmation_sent=status == BookingStatus.CONFIRMED,
        **times,
    )
    _save_times(booking)
    if paid_by is not None:
        client_package_debit(client_package=paid_by, booking=booking, actor=created_by)
    if status == BookingStatus.COMPLETED:
        _count_session(trainer.pk, +1)
        note = "Recorded after it took place."
    else:
        note = "Booked outside the offered times." if off_grid else ""
    created = _record(
        booking, BookingEvent.Kind.CREATED, actor=created_by, to_status=status, off_grid=off_grid, note=note
    )
    if status == BookingStatus.CONFIRMED:
        _notify_client(booking, "booking_confirmed", now=now, latest_event=created)
    elif status == BookingStatus.PENDING:
        # A "request received" mail; the confirmation comes with booking_confirm.
        _notify_client(booking, "booking_requested", now=now, latest_event=created)
    return booking


def _sessions_in_week(*, trainer_ids: list[int], start: datetime) -> dict[int, int]:
    """Active and completed bookings per trainer in the studio's week (Monday first, in the studio's zone) of
    ``start``."""
    zone = ZoneInfo(studio_timezone())
    day = start.astimezone(zone).date()
    monday = day - timedelta(days=day.weekday())
    rows = (
        Booking.objects.filter(
            trainer_id__in=trainer_ids,
            status__in=(*ACTIVE_STATUSES, BookingStatus.COMPLETED),
            start_time__gte=slots.local_midnight(monday, zone),
            start_time__lt=slots.local_midnight(monday + timedelta(days=7), zone),
        )
        .values("trainer_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["trainer_id"]: row["count"] for row in rows}


def any_trainer_candidates(*, session_type: SessionType, start: datetime, now: datetime) -> list[Trainer]:
    """The trainers offering ``session_type`` who are free at ``start`` (UTC), in the order "any available trainer"
    tries them: the fewest sessions (active or completed) in the studio's week of the start first, ties by the
    lower id. NotASlot (400) when no trainer's windows offer the start at all.

    Takes every offering trainer's row lock, in id order like every writer that takes several, and leaves them to
    the caller's transaction (so it must run inside one): while the caller chooses and writes, none of them can be
    booked, held, given a break or lose a window, so the choice is made on settled calendars.
    """
    trainers = list(offering_trainers(session_type).select_for_update(of=("self",)))
    day = start.astimezone(ZoneInfo(studio_timezone())).date()
    starts = team_starts(trainers=trainers, session_type=session_type, first_day=day, last_day=day, now=now)
    if not any(start in found.grid for found in starts.values()):
        raise NotASlot(fields={"start_time": ["No trainer offers a session starting at this time."]})
    free = [trainer for trainer in trainers if start in starts[trainer.pk].free]
    load = _sessions_in_week(trainer_ids=[trainer.pk for trainer in free], start=start)
    return sorted(free, key=lambda trainer: (load.get(trainer.pk, 0), trainer.pk))


@transaction.atomic
def booking_create_any_trainer(
    *,
    client: Client,
    session_type: SessionType,
    start_time: datetime,
    created_by: User | None,
    client_package: ClientPackage | None = None,
    notes: str = "",
    now: datetime | None = None,
    pay_with_credit: bool = True,
) -> Booking:
    """Book ``client`` with whichever active trainer offering ``session_type`` is free at ``start_time``: the one
    with the fewest sessions (active or completed) in the studio's week of the start, ties by the lower id. Then
    as ``booking_create`` (payment, status, history, mail).

    A trainer books into their own calendar only, so "any trainer" is for clients, the owner, managers and the
    system. Refusals: the session type's notice or horizon (400), a start no trainer's windows offer (400
    ``not_a_slot``), every trainer who offers it taken then (409 ``slot_unavailable``).
    """
    now = now or timezone.now()
    start = _utc(start_time)
    if created_by is not None and created_by.role == Role.TRAINER:
        raise OwnCalendarOnly()
    if not session_type.is_active:
        message = "This session type is no longer offered."
        raise NotTakingBookings(message, fields={"session_type": [message]})
    if not client.is_active:
        raise NotTakingBookings("This client is inactive.", fields={"client": ["This client is inactive."]})
    _check_when(session_type=session_type, start=start, now=now)
    for trainer in any_trainer_candidates(session_type=session_type, start=start, now=now):
        try:
            # booking_create checks the slot again under the trainer's lock; a savepoint, so that a candidate
            # turning out taken (a write that bypassed the lock meets the constraint) leaves nothing behind.
            with transaction.atomic():
                return booking_create(
                    trainer=trainer,
                    client=client,
                    session_type=session_type,
                    start_time=start,
                    notes=notes,
                    client_package=client_package,
                    created_by=created_by,
                    now=now,
                    pay_with_credit=pay_with_credit,
                )
        except (SlotUnavailable, NotASlot):
            continue
    raise SlotUnavailable("This time was just taken with every trainer who offers this session.")


def _locked(booking: Booking) -> Booking:
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("trainer", "session_type", "client", "client_package__package")
        .get(pk=booking.pk)
    )


def _check_client_window(*, booking: Booking, now: datetime) -> None:
    if now > booking.start_time - timedelta(hours=booking.session_type.cancellation_window_hours):
        raise RescheduleWindowPassed()


def booking_move_refusal(*, booking: Booking, now: datetime) -> ApplicationError | None:
    """Why the client can't move ``booking`` to any time now, by ``booking_reschedule``'s own checks made before
    it looks at the new time (its window, the trainer and session type still taking bookings, the trainer
    offering it); None: it may move. A page says it up front instead of offering times the move would refuse."""
    try:
        _check_client_window(booking=booking, now=now)
        _check_bookable(trainer=booking.trainer, session_type=booking.session_type)
        check_offers(trainer=booking.trainer, session_type=booking.session_type)
    except ApplicationError as error:
        return error
    return None


@transaction.atomic
def booking_reschedule(
    *,
    booking: Booking,
    start_time: datetime,
    actor: User | None,
    trainer: Trainer | None = None,
    off_grid: bool = False,
    now=None,
    by_client: bool = False,
) -> Booking:
    """Move an active booking to another start, and/or to another ``trainer`` who offers its session type.

    The destination is checked as a new booking would be, on every move: the trainer and the session type
    still take bookings, the trainer offers it, and the slot rules hold (or with ``off_grid``, staff only, just
    that the trainer is free); both trainers are locked, in id order. So a booking of a trainer who no longer
    takes bookings can only go to another trainer (what the staff handover does). A credit already spent moves
    with the booking, but not past the package's last day.

    ``actor`` decides what may move where (``_check_actor_may_book``): a trainer keeps it in their own
    calendar; a client moves it to another time with the same trainer only, and not inside the session type's
    cancellation window; the owner, managers and the system move it to any trainer. ``by_client`` says it is the
    client without an account (a manage link): the client's window applies, to the same trainer only.
    """
    now = now or timezone.now()
    start = _utc(start_time)
    by_client = by_client or not is_studio_actor(actor)
    if by_client and trainer is not None and trainer.pk != booking.trainer_id:
        raise TrainerChangeStaffOnly(fields={"trainer": [TrainerChangeStaffOnly.message]})
    trainer_ids = sorted({booking.trainer_id} | ({trainer.pk} if trainer is not None else set()))
    locked = {trainer_id: lock_trainer(Trainer(pk=trainer_id)) for trainer_id in trainer_ids}
    booking = _locked(booking)
    if booking.trainer_id not in locked:
        raise BookingChanged()  # moved to yet another trainer while we waited for the locks
    destination = locked[trainer.pk] if trainer is not None else locked[booking.trainer_id]
    changes_trainer = destination.pk != booking.trainer_id
    _check_actor_may_book(actor=actor, trainer=destination, off_grid=off_grid, current_trainer_id=booking.trainer_id)
    if booking.status not in ACTIVE_STATUSES:
        raise InvalidTransition("Only pending or confirmed bookings can be rescheduled.")
    if by_client:
        _check_client_window(booking=booking, now=now)
    if start == booking.start_time and not changes_trainer:
        raise ValidationFailed(fields={"start_time": ["The booking already starts at this time."]})
    _check_bookable(trainer=destination, session_type=booking.session_type)
    check_offers(trainer=destination, session_type=booking.session_type)
    if booking.payment_state == PaymentState.CREDIT:
        client_package_check_date(client_package=booking.client_package, start_time=start)
    if off_grid:
        _check_free(trainer=destination, session_type=booking.session_type, start=start, exclude_booking_id=booking.pk)
    else:
        _check_slot(
            trainer=destination,
            session_type=booking.session_type,
            start=start,
            now=now,
            exclude_booking_id=booking.pk,
        )
    previous_start, previous_trainer = booking.start_time, booking.trainer
    for field, value in _times(booking.session_type, start).items():
        setattr(booking, field, value)
    booking.trainer = destination
    _save_times(booking)
    _record(
        booking,
        BookingEvent.Kind.RESCHEDULED,
        actor=actor,
        previous_start_time=previous_start,
        new_start_time=start,
        previous_trainer=previous_trainer if changes_trainer else None,
        new_trainer=destination if changes_trainer else None,
        off_grid=off_grid,
        from_status=booking.status,
        to_status=booking.status,
        note=f"Moved from {previous_trainer.display_name} to {destination.display_name}." if changes_trainer else "",
    )
    _notify_client(
        booking, "booking_rescheduled", now=now, previous_trainer=previous_trainer if changes_trainer else None
    )
    return booking


def _transition(booking: Booking, to: str, *, actor: User | None, note: str = "", **changes) -> Booking:
    if to not in TRANSITIONS.get(booking.status, set()):
        raise InvalidTransition(
            f"A {booking.get_status_display().lower()} booking can't become {BookingStatus(to).label.lower()}."
        )
    previous = booking.status
    booking.status = to
    for field, value in changes.items():
        setattr(booking, field, value)
    booking.save()
    _record(booking, to, actor=actor, from_status=previous, to_status=to, note=note)
    return booking


def _refund(booking: Booking, *, actor: User | None, reason: str) -> None:
    client_package_refund(booking=booking, actor=actor, reason=reason)
    booking.credit_returned = True
    booking.save(update_fields=["credit_returned", "updated"])


@transaction.atomic
def booking_confirm(*, booking: Booking, actor: User | None) -> Booking:
    """Confirm a pending request; the confirmation mail goes now (the request only had a "received" one)."""
    booking = _transition(_locked(booking), BookingStatus.CONFIRMED, actor=actor)
    booking.confirmation_sent = _notify_client(booking, "booking_confirmed")
    booking.save(update_fields=["confirmation_sent"])
    return booking


@dataclass(frozen=True)
class CancelOutcome:
    """What cancelling a booking now would do; ``booking_cancel`` acts on it, so a page that announces it can't
    disagree with what then happens."""

    cancelled_by: str
    is_late: bool
    credit_returned: bool  # a package credit paid and comes back


def booking_cancel_outcome(*, booking: Booking, now: datetime, by_client: bool) -> CancelOutcome:
    cancelled_by = CancelledBy.CLIENT if by_client else CancelledBy.STUDIO
    window = timedelta(hours=booking.session_type.cancellation_window_hours)
    is_late = (
        cancelled_by == CancelledBy.CLIENT
        and booking.status == BookingStatus.CONFIRMED
        and now > booking.start_time - window
    )
    credit_returned = booking.payment_state == PaymentState.CREDIT and (
        cancelled_by == CancelledBy.STUDIO or not is_late or not booking.session_type.late_cancel_forfeits_credit
    )
    return CancelOutcome(cancelled_by=cancelled_by, is_late=is_late, credit_returned=credit_returned)


@transaction.atomic
def booking_cancel(
    *, booking: Booking, actor: User | None, reason: str = "", now=None, by_client: bool = False
) -> Booking:
    """Cancel. Who cancelled comes from ``actor``'s role: a client user is the client; staff, or no actor (the
    system), is the studio. ``by_client`` says it is the client without an account (a manage link).

    A studio cancellation always gives back the credit that paid. A client's is late inside the session type's
    cancellation window: a timely one gives the credit back, a late one only when the session type doesn't
    make late cancellations forfeit it. A request still pending (never confirmed) is never late. The mail to
    the client says whether the credit came back.

    A studio cancellation of a ``paid`` booking owes the client the money taken: no money moves here (payments
    for sessions are taken at the studio, not through TrainerHub), so the history and the mail say the studio
    refunds it.
    """
    now = now or timezone.now()
    booking = _locked(booking)
    outcome = booking_cancel_outcome(booking=booking, now=now, by_client=by_client or not is_studio_actor(actor))
    cancelled_by, is_late = outcome.cancelled_by, outcome.is_late
    note = reason
    if cancelled_by == CancelledBy.STUDIO and booking.payment_state == PaymentState.PAID:
        # First, so that a long reason (kept whole in cancellation_reason) can't cut it off the note.
        owed = f"The studio is to refund the {booking.amount_paid} {booking.payment_currency} paid."
        note = f"{owed} {reason}" if reason else owed
    booking = _transition(
        booking,
        BookingStatus.CANCELLED,
        actor=actor,
        note=note[: BookingEvent._meta.get_field("note").max_length],
        cancellation_reason=reason,
        cancelled_at=now,
        cancelled_by=cancelled_by,
        is_late_cancellation=is_late,
    )
    if outcome.credit_returned:
        if cancelled_by == CancelledBy.STUDIO:
            _refund(booking, actor=actor, reason=reason or "Cancelled by the studio.")
        elif not is_late:
            _refund(booking, actor=actor, reason=reason or "Cancelled in time.")
        else:
            _refund(booking, actor=actor, reason=reason or "Late cancellation; the studio returns the credit.")
    if booking.client_package_id is not None:
        booking.client_package.refresh_from_db(fields=["sessions_remaining"])
    booking.cancellation_sent = _notify_client(booking, "booking_cancelled", now=now)
    booking.save(update_fields=["cancellation_sent"])
    return booking


@transaction.atomic
def booking_complete(*, booking: Booking, actor: User | None, now=None) -> Booking:
    booking = _locked(booking)
    if booking.start_time > (now or timezone.now()) and booking.status in TRANSITIONS:
        raise SessionNotStarted()
    booking = _transition(booking, BookingStatus.COMPLETED, actor=actor)
    _count_session(booking.trainer_id, +1)
    return booking


@transaction.atomic
def booking_no_show(*, booking: Booking, actor: User | None, now=None) -> Booking:
    """The client didn't come: the credit stays spent, unless the session type doesn't make no-shows forfeit it."""
    booking = _locked(booking)
    if booking.start_time > (now or timezone.now()) and booking.status in TRANSITIONS:
        raise SessionNotStarted()
    booking = _transition(booking, BookingStatus.NO_SHOW, actor=actor)
    if booking.payment_state == PaymentState.CREDIT and not booking.session_type.no_show_forfeits_credit:
        _refund(booking, actor=actor, reason="No-show; the studio returns the credit.")
    return booking


UNDOABLE_STATUSES = (BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


def booking_undo_deadline(booking: Booking, *, events: Iterable[BookingEvent] | None = None) -> datetime | None:
    """Until when ``booking_undo`` takes back a completed or no-show: ``settings.BOOKING_UNDO_DAYS`` from the
    session's end, or from the marking when that came later (a past session recorded today); None for any other
    status. ``events``: the booking's history when the caller has read it already (a page listing many
    bookings), else it is queried."""
    if booking.status not in UNDOABLE_STATUSES:
        return None
    if events is None:
        marked_at = (
            booking.events.filter(to_status=booking.status)
            .order_by("-created", "-id")
            .values_list("created", flat=True)
            .first()
        )
    else:
        marked_at = max((event.created for event in events if event.to_status == booking.status), default=None)
    return max(marked_at or booking.updated, booking.end_time) + timedelta(days=settings.BOOKING_UNDO_DAYS)


@transaction.atomic
def booking_undo(*, booking: Booking, actor: User | None, now=None) -> Booking:
    """Take back a mistaken ``completed`` or ``no_show`` within ``settings.BOOKING_UNDO_DAYS`` (default 7) of
    the session's end, or of the marking when that came later: the booking is ``confirmed`` again and the history
    keeps both entries.

    Undoing ``completed`` lowers the trainer's session count again; no credit moves (confirmed holds the credit
    as completed did). Undoing a ``no_show`` that forfeited the credit moves nothing either; one whose credit
    was given back (a lenient session type) spends it again, in a new credit round of the ledger; if the
    package can't pay any more (used up, expired), the booking becomes ``unpaid`` and the history says so (the
    round moves on all the same, so a package attached later debits in a round of its own).
    """
    now = now or timezone.now()
    # Confirmed holds the trainer's time again: the trainer's lock first, as for any booking.
    lock_trainer(booking.trainer)
    booking = _locked(booking)
    deadline = booking_undo_deadline(booking)
    if deadline is None:
        raise InvalidTransition("Only a completed or no-show booking can be undone.")
    if now > deadline:
        raise UndoWindowPassed(
            f"A {booking.get_status_display().lower()} booking can be undone within {settings.BOOKING_UNDO_DAYS} "
            "days of the session or of marking it, whichever is later."
        )
    previous = booking.status
    note = f"{booking.get_status_display()} undone."
    if previous == BookingStatus.COMPLETED:
        _count_session(booking.trainer_id, -1)
    elif booking.credit_returned:
        try:
            paid_by = client_package_for_booking(
                client=booking.client,
                session_type=booking.session_type,
                start_time=booking.start_time,
                client_package=booking.client_package,
            )
        except (NoCreditsLeft, PackageExpired, PackageNotApplicable):
            paid_by = None
        booking.credit_returned = False
        # The round whose credit was given back is closed either way: the credit spent again now, or a package
        # attached later (booking_attach_package), debits in a new one.
        booking.credit_round += 1
        if paid_by is not None:
            client_package_debit(client_package=paid_by, booking=booking, actor=actor)
            note += " The credit given back for the no-show is spent again."
        else:
            booking.payment_state = PaymentState.UNPAID
            booking.client_package = None
            note += " The package can't pay for it any more: the booking is unpaid."
    booking.status = BookingStatus.CONFIRMED
    _save_times(booking)
    _record(booking, BookingEvent.Kind.UNDONE, actor=actor, from_status=previous, to_status=booking.status, note=note)
    return booking


# -- paying for a booking after the fact ---------------------------------------------------------------------


def _check_unpaid(booking: Booking) -> None:
    if booking.status == BookingStatus.CANCELLED:
        raise InvalidTransition("A cancelled booking has nothing to pay.")
    if booking.payment_state != PaymentState.UNPAID:
        raise PaymentAlreadySettled(
            f"This booking is already settled ({PaymentState(booking.payment_state).label.lower()})."
        )


@transaction.atomic
def booking_attach_package(*, booking: Booking, client_package: ClientPackage, actor: User | None) -> Booking:
    """Pay an unpaid booking with a credit of ``client_package``: the client's own, covering the session type,
    valid on the session's day, with a credit left (checked and debited under the package's lock, so a credit
    spent elsewhere meanwhile is a clean 409 ``no_credits_left``).

    A no-show whose session type doesn't make no-shows forfeit the credit owes none: refused (409
    ``no_show_not_charged``), as a credit taken would have been given back at the no-show."""
    booking = _locked(booking)
    _check_unpaid(booking)
    if booking.status == BookingStatus.NO_SHOW and not booking.session_type.no_show_forfeits_credit:
        raise NoShowNotCharged()
    paid_by = client_package_for_booking(
        client=booking.client,
        session_type=booking.session_type,
        start_time=booking.start_time,
        client_package=client_package,
    )
    booking.payment_state = PaymentState.CREDIT
    booking.client_package = paid_by
    booking.save(update_fields=["payment_state", "client_package", "updated"])
    client_package_debit(client_package=paid_by, booking=booking, actor=actor)
    _record(
        booking,
        BookingEvent.Kind.PACKAGE_ATTACHED,
        actor=actor,
        from_status=booking.status,
        to_status=booking.status,
        note=f"Paid by a credit of {paid_by.package.name}.",
    )
    return booking


@transaction.atomic
def booking_record_payment(
    *,
    booking: Booking,
    payment_method: str,
    amount_paid: Decimal,
    actor: User | None,
    currency: str | None = None,
    now: datetime | None = None,
) -> Booking:
    """Record that an unpaid booking was paid at the studio: how, how much, by whom, when. The payment is in
    the booking's currency (``currency`` may name it, and nothing else)."""
    problems: dict[str, list[str]] = {}
    methods = [value for value, _ in SESSION_PAYMENT_METHODS]
    if payment_method not in methods:
        problems["payment_method"] = [f"Choose one of: {', '.join(methods)}."]
    try:
        amount = Decimal(amount_paid)
    except (InvalidOperation, TypeError, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0:
        problems["amount_paid"] = ["Give the amount paid, more than zero (nothing paid: mark it complimentary)."]
    elif amount != amount.quantize(Decimal("0.01")) or amount >= Decimal("100000000"):
        problems["amount_paid"] = ["Give an amount with at most two decimals, below 100000000."]
    if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
        problems["currency"] = ["Use an ISO 4217 code such as EUR."]
    elif currency is not None and currency != booking.currency:
        problems["currency"] = [f"This booking is priced in {booking.currency}; record the payment in it."]
    if problems:
        raise ValidationFailed(fields=problems)
    booking = _locked(booking)
    _check_unpaid(booking)
    booking.payment_state = PaymentState.PAID
    booking.payment_method = payment_method
    booking.amount_paid = amount
    booking.payment_currency = booking.currency
    booking.payment_recorded_by = actor
    booking.payment_recorded_at = now or timezone.now()
    booking.save()
    _record(
        booking,
        BookingEvent.Kind.PAYMENT_RECORDED,
        actor=actor,
        from_status=booking.status,
        to_status=booking.status,
        note=f"{amount} {booking.payment_currency} by {booking.get_payment_method_display().lower()}.",
    )
    return booking


@transaction.atomic
def booking_mark_complimentary(*, booking: Booking, actor: User | None, reason: str = "") -> Booking:
    """The studio waives payment for an unpaid booking: the owner's or a manager's call (``may_mark_complimentary``),
    whichever endpoint or page asks."""
    if not may_mark_complimentary(actor):
        raise ComplimentaryManagersOnly()
    booking = _locked(booking)
    _check_unpaid(booking)
    booking.payment_state = PaymentState.COMPLIMENTARY
    booking.save(update_fields=["payment_state", "updated"])
    _record(
        booking,
        BookingEvent.Kind.COMPLIMENTARY,
        actor=actor,
        from_status=booking.status,
        to_status=booking.status,
        note=reason,
    )
    return booking


@transaction.atomic
def booking_update_notes(*, booking: Booking, notes: str, actor: User | None) -> Booking:
    booking = _locked(booking)
    booking.notes = notes
    booking.save(update_fields=["notes", "updated"])
    _record(booking, BookingEvent.Kind.UPDATED, actor=actor, note="Notes changed.")
    return booking
