"""Bookings: every write takes the trainer's row lock, re-checks the slot inside the same transaction, and
leaves the exclusion constraint as the last line of defence. A lost race is a 409, never a 500.

A booking paid by a package credit takes the package's row lock after the trainer's (always in that order, so
two bookings never wait on each other crosswise) and debits the credit in the same transaction."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from shared_apps.accounts.models import User
from shared_apps.core.exceptions import ApplicationError, Conflict, ValidationFailed
from shared_apps.core.mail import send_mail_on_commit
from tenant_apps.availability import slots
from tenant_apps.availability.selectors import (
    booking_horizon,
    check_offers,
    day_span,
    slot_rules,
    trainer_busy,
    trainer_windows,
)
from tenant_apps.availability.services import lock_trainer
from tenant_apps.bookings.models import ACTIVE_STATUSES, Booking, BookingEvent, BookingStatus
from tenant_apps.clients.models import Client
from tenant_apps.packages.models import ClientPackage
from tenant_apps.packages.services import (
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


class NotASlot(ApplicationError):
    code = "not_a_slot"
    message = "The trainer does not offer a session starting at this time."


class StartInPast(ApplicationError):
    code = "start_in_past"
    message = "This time has already passed."


class OutsideBookingWindow(ApplicationError):
    code = "outside_booking_window"


# Where each status may go; completed, cancelled and no-show are final.
TRANSITIONS = {
    BookingStatus.PENDING: {BookingStatus.CONFIRMED, BookingStatus.CANCELLED},
    BookingStatus.CONFIRMED: {BookingStatus.COMPLETED, BookingStatus.NO_SHOW, BookingStatus.CANCELLED},
}


def _check_slot(
    *, trainer: Trainer, session_type: SessionType, start: datetime, now: datetime, exclude_booking_id=None
) -> None:
    """The same rules available_slots applies, for one start: notice, horizon, windows (DST included),
    breaks and buffered bookings. Runs under the trainer's lock."""
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
    zone = ZoneInfo(trainer.timezone)
    day = start.astimezone(zone).date()
    rules = slot_rules(session_type)
    windows = trainer_windows(trainer=trainer, first_day=day, last_day=day)
    if start not in slots.candidate_starts(windows, zone, day, day, rules):
        raise NotASlot(fields={"start_time": [NotASlot.message]})
    since, until = day_span(zone=zone, first_day=day, last_day=day, rules=rules)
    busy, breaks = trainer_busy(trainer=trainer, since=since, until=until, exclude_booking_id=exclude_booking_id)
    forbidden = slots.forbidden_starts(rules, busy, breaks)
    if slots.is_forbidden(start, forbidden, [interval.start for interval in forbidden]):
        raise SlotUnavailable()


def _times(session_type: SessionType, start: datetime) -> dict[str, datetime]:
    end = start + timedelta(minutes=session_type.duration_minutes)
    return {
        "start_time": start,
        "end_time": end,
        "blocked_from": start - timedelta(minutes=session_type.buffer_before_minutes),
        "blocked_until": end + timedelta(minutes=session_type.buffer_after_minutes),
    }


def _save_times(booking: Booking) -> None:
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError as error:
        # Only a write that bypassed the trainer lock can get here; the constraint still says no.
        if "booking_no_overlap_per_trainer" in str(error):
            raise SlotUnavailable() from error
        raise


def _record(booking: Booking, kind: str, *, actor: User | None, **fields) -> BookingEvent:
    return BookingEvent.objects.create(booking=booking, kind=kind, actor=actor, **fields)


def _notify_client(booking: Booking, template: str) -> bool:
    zone = ZoneInfo(booking.trainer.timezone)
    send_mail_on_commit(
        template=template,
        to=booking.client.email,
        context={"booking": booking, "local_start": booking.start_time.astimezone(zone), "zone": zone.key},
    )
    return True


def _utc(moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        raise ValidationFailed(fields={"start_time": ["Give the time with its offset, e.g. 2026-01-05T09:00:00Z."]})
    return moment.astimezone(UTC)


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
    now: datetime | None = None,
) -> Booking:
    """Book ``client`` with ``trainer``: confirmed at once, or pending when the session type asks for it.

    Paid by a credit of ``client_package`` when named, else of the client's only usable package if there is
    exactly one; otherwise booked without credits.
    """
    now = now or timezone.now()
    start = _utc(start_time)
    trainer = lock_trainer(trainer)
    problems = {}
    if not trainer.is_active:
        problems["trainer"] = ["This trainer is not taking bookings."]
    if not session_type.is_active:
        problems["session_type"] = ["This session type is no longer offered."]
    if not client.is_active:
        problems["client"] = ["This client is inactive."]
    if problems:
        raise ValidationFailed(fields=problems)
    check_offers(trainer=trainer, session_type=session_type)
    _check_slot(trainer=trainer, session_type=session_type, start=start, now=now)
    paid_by = client_package_for_booking(
        client=client, session_type=session_type, start_time=start, client_package=client_package
    )

    status = BookingStatus.PENDING if session_type.requires_confirmation else BookingStatus.CONFIRMED
    booking = Booking(
        trainer=trainer,
        client=client,
        session_type=session_type,
        status=status,
        notes=notes,
        price=session_type.price,
        currency=session_type.currency,
        client_package=paid_by,
        created_by=created_by,
        **_times(session_type, start),
    )
    _save_times(booking)
    if paid_by is not None:
        client_package_debit(client_package=paid_by, booking=booking, actor=created_by)
    _record(booking, BookingEvent.Kind.CREATED, actor=created_by, to_status=status)
    booking.confirmation_sent = _notify_client(
        booking, "booking_confirmed" if status == BookingStatus.CONFIRMED else "booking_requested"
    )
    booking.save(update_fields=["confirmation_sent"])
    return booking


def _locked(booking: Booking) -> Booking:
    return Booking.objects.select_for_update().select_related("trainer", "session_type", "client").get(pk=booking.pk)


@transaction.atomic
def booking_reschedule(
    *, booking: Booking, start_time: datetime, actor: User | None, by_client: bool = False, now=None
) -> Booking:
    """Move an active booking to another free slot of the same trainer and session type."""
    now = now or timezone.now()
    start = _utc(start_time)
    lock_trainer(booking.trainer)
    booking = _locked(booking)
    if booking.status not in ACTIVE_STATUSES:
        raise InvalidTransition("Only pending or confirmed bookings can be rescheduled.")
    if by_client and now > booking.start_time - timedelta(hours=booking.session_type.cancellation_window_hours):
        raise RescheduleWindowPassed()
    if start == booking.start_time:
        raise ValidationFailed(fields={"start_time": ["The booking already starts at this time."]})
    if booking.client_package_id is not None:
        # The credit already spent moves with the booking, but not past the package's last day.
        client_package_check_date(client_package=booking.client_package, start_time=start)
    _check_slot(
        trainer=booking.trainer, session_type=booking.session_type, start=start, now=now, exclude_booking_id=booking.pk
    )
    previous = booking.start_time
    for field, value in _times(booking.session_type, start).items():
        setattr(booking, field, value)
    _save_times(booking)
    _record(
        booking,
        BookingEvent.Kind.RESCHEDULED,
        actor=actor,
        previous_start_time=previous,
        new_start_time=start,
        from_status=booking.status,
        to_status=booking.status,
    )
    _notify_client(booking, "booking_rescheduled")
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


@transaction.atomic
def booking_confirm(*, booking: Booking, actor: User | None) -> Booking:
    booking = _transition(_locked(booking), BookingStatus.CONFIRMED, actor=actor)
    _notify_client(booking, "booking_confirmed")
    return booking


@transaction.atomic
def booking_cancel(*, booking: Booking, actor: User | None, reason: str = "", now=None) -> Booking:
    """Cancel; inside the session type's cancellation window the cancellation is marked late. A timely
    cancellation gives back the credit that paid for the booking; a late one keeps it spent.

    A request still pending (never confirmed) is never late: declining or withdrawing it costs nobody a credit.
    """
    now = now or timezone.now()
    booking = _locked(booking)
    window = timedelta(hours=booking.session_type.cancellation_window_hours)
    was_confirmed = booking.status == BookingStatus.CONFIRMED
    booking = _transition(
        booking,
        BookingStatus.CANCELLED,
        actor=actor,
        note=reason,
        cancellation_reason=reason,
        cancelled_at=now,
        is_late_cancellation=was_confirmed and now > booking.start_time - window,
    )
    if booking.client_package_id is not None and not booking.is_late_cancellation:
        client_package_refund(booking=booking, actor=actor, reason=reason or "Cancelled in time.")
    _notify_client(booking, "booking_cancelled")
    return booking


@transaction.atomic
def booking_complete(*, booking: Booking, actor: User | None, now=None) -> Booking:
    booking = _locked(booking)
    if booking.start_time > (now or timezone.now()) and booking.status in TRANSITIONS:
        raise SessionNotStarted()
    booking = _transition(booking, BookingStatus.COMPLETED, actor=actor)
    Trainer.objects.filter(pk=booking.trainer_id).update(total_sessions=F("total_sessions") + 1)
    return booking


@transaction.atomic
def booking_no_show(*, booking: Booking, actor: User | None, now=None) -> Booking:
    booking = _locked(booking)
    if booking.start_time > (now or timezone.now()) and booking.status in TRANSITIONS:
        raise SessionNotStarted()
    return _transition(booking, BookingStatus.NO_SHOW, actor=actor)


@transaction.atomic
def booking_update_notes(*, booking: Booking, notes: str, actor: User | None) -> Booking:
    booking = _locked(booking)
    booking.notes = notes
    booking.save(update_fields=["notes", "updated"])
    _record(booking, BookingEvent.Kind.UPDATED, actor=actor, note="Notes changed.")
    return booking
