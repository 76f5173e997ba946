from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from shared_apps.core.exceptions import ValidationFailed, full_clean_or_fail
from tenant_apps.availability import slots
from tenant_apps.availability.models import AvailabilitySlot, TrainerBreak
from tenant_apps.trainers.models import Trainer


def lock_trainer(trainer: Trainer) -> Trainer:
    """Serialise every change to one trainer's calendar: windows, breaks and bookings take this row lock. The
    trainer's account comes along, unlocked (the booking's notices read it)."""
    return Trainer.objects.select_related("user").select_for_update(of=("self",)).get(pk=trainer.pk)


def _overlapping_windows(window: AvailabilitySlot):
    """Active windows of the same trainer whose hours overlap ``window`` on a day they both apply to."""
    others = AvailabilitySlot.objects.filter(
        trainer_id=window.trainer_id,
        is_active=True,
        start_time__lt=window.end_time,
        end_time__gt=window.start_time,
    ).exclude(pk=window.pk)
    today = timezone.now().astimezone(ZoneInfo(window.trainer.timezone)).date()
    if window.is_recurring:
        # A weekly window meets every future one-off window on its weekday.
        return others.filter(Q(is_recurring=True) | Q(date__gte=today), day_of_week=window.day_of_week)
    return others.filter(Q(is_recurring=True, day_of_week=window.day_of_week) | Q(date=window.date))


def _save_window(window: AvailabilitySlot) -> AvailabilitySlot:
    if window.date is not None:
        if not window.is_recurring and window.day_of_week not in (None, window.date.weekday()):
            raise ValidationFailed(fields={"day_of_week": ["It does not match the date's day of the week."]})
        window.day_of_week = window.date.weekday()
    full_clean_or_fail(window)
    if window.is_active and _overlapping_windows(window).exists():
        raise ValidationFailed(fields={"start_time": ["This window overlaps another window of the trainer's."]})
    window.save()
    return window


@transaction.atomic
def availability_create(
    *,
    trainer: Trainer,
    start_time: time,
    end_time: time,
    day_of_week: int | None = None,
    is_recurring: bool = True,
    date: date | None = None,
    is_active: bool = True,
) -> AvailabilitySlot:
    """Add a window; refused when it overlaps one of the trainer's windows (checked under the trainer's lock)."""
    trainer = lock_trainer(trainer)
    window = AvailabilitySlot(
        trainer=trainer,
        day_of_week=day_of_week,
        start_time=start_time,
        end_time=end_time,
        is_recurring=is_recurring,
        date=date,
        is_active=is_active,
    )
    if day_of_week is None and date is None:
        raise ValidationFailed(fields={"day_of_week": ["A weekly window needs a day of the week."]})
    return _save_window(window)


_WINDOW_FIELDS = {"day_of_week", "start_time", "end_time", "is_recurring", "date", "is_active"}


@transaction.atomic
def availability_update(*, window: AvailabilitySlot, **changes) -> AvailabilitySlot:
    unknown = set(changes) - _WINDOW_FIELDS
    if unknown:
        raise ValueError(f"not window fields: {unknown}")
    lock_trainer(window.trainer)
    for field, value in changes.items():
        setattr(window, field, value)
    if changes.get("is_recurring") is True and "date" not in changes:
        window.date = None
    return _save_window(window)


@transaction.atomic
def availability_delete(*, window: AvailabilitySlot) -> None:
    lock_trainer(window.trainer)
    window.delete()


def day_bounds(*, trainer: Trainer, start_date: date, end_date: date) -> tuple[datetime, datetime]:
    """Whole days, inclusive, in the trainer's zone, as instants."""
    zone = ZoneInfo(trainer.timezone)
    return slots.local_midnight(start_date, zone), slots.local_midnight(end_date + timedelta(days=1), zone)


@transaction.atomic
def break_create(
    *,
    trainer: Trainer,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
    reason: str = "",
) -> TrainerBreak:
    """Time off, given as two instants or as whole days (inclusive, in the trainer's zone)."""
    trainer = lock_trainer(trainer)
    if start_date is not None or end_date is not None:
        if start_date is None or end_date is None or starts_at or ends_at:
            raise ValidationFailed("Give either starts_at and ends_at, or start_date and end_date.")
        if end_date < start_date:
            raise ValidationFailed(fields={"end_date": ["The end date is before the start date."]})
        starts_at, ends_at = day_bounds(trainer=trainer, start_date=start_date, end_date=end_date)
    if starts_at is None or ends_at is None:
        raise ValidationFailed("Give either starts_at and ends_at, or start_date and end_date.")
    if ends_at <= starts_at:
        raise ValidationFailed(fields={"ends_at": ["The break must end after it starts."]})
    time_off = TrainerBreak(trainer=trainer, starts_at=starts_at, ends_at=ends_at, reason=reason)
    time_off.save()
    return time_off


@transaction.atomic
def break_delete(*, time_off: TrainerBreak) -> None:
    lock_trainer(time_off.trainer)
    time_off.delete()
