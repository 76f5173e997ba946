from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.apps import apps
from django.db.models import Q, QuerySet
from django.utils import timezone

from shared_apps.accounts.models import User
from shared_apps.core.exceptions import ApplicationError
from tenant_apps.availability import slots
from tenant_apps.availability.models import AvailabilitySlot, TrainerBreak
from tenant_apps.trainers.models import SessionType, Trainer


class SessionTypeNotOffered(ApplicationError):
    code = "session_type_not_offered"
    message = "This trainer does not offer this session type."

    def __init__(self):
        super().__init__(fields={"session_type": [self.message]})


def check_offers(*, trainer: Trainer, session_type: SessionType) -> None:
    if not session_type.trainers.filter(pk=trainer.pk).exists():
        raise SessionTypeNotOffered()


def _visible_to(queryset: QuerySet, user: User) -> QuerySet:
    """Owner and managers see every trainer's; a trainer only their own."""
    if user.manages_studio:
        return queryset
    return queryset.filter(trainer__user=user)


def availability_list(*, user: User, trainer_id: int | None = None) -> QuerySet[AvailabilitySlot]:
    windows = _visible_to(AvailabilitySlot.objects.all(), user)
    return windows.filter(trainer_id=trainer_id) if trainer_id else windows


def break_list(*, user: User, trainer_id: int | None = None) -> QuerySet[TrainerBreak]:
    breaks = _visible_to(TrainerBreak.objects.all(), user)
    return breaks.filter(trainer_id=trainer_id) if trainer_id else breaks


def slot_rules(session_type: SessionType) -> slots.Rules:
    return slots.Rules(
        duration=timedelta(minutes=session_type.duration_minutes),
        interval=timedelta(minutes=session_type.interval_minutes),
        buffer_before=timedelta(minutes=session_type.buffer_before_minutes),
        buffer_after=timedelta(minutes=session_type.buffer_after_minutes),
    )


def booking_horizon(session_type: SessionType, now: datetime) -> tuple[datetime, datetime]:
    """The earliest and latest starts bookable now: past the notice, before the horizon."""
    return (
        now + timedelta(minutes=session_type.min_notice_minutes),
        now + timedelta(days=session_type.max_advance_days),
    )


def trainer_windows(*, trainer: Trainer, first_day: date, last_day: date) -> list[slots.Window]:
    rows = AvailabilitySlot.objects.filter(trainer=trainer, is_active=True).filter(
        Q(is_recurring=True) | Q(date__gte=first_day, date__lte=last_day)
    )
    return [
        slots.Window(
            start=row.start_time,
            end=row.end_time,
            day_of_week=row.day_of_week if row.is_recurring else None,
            on_date=None if row.is_recurring else row.date,
        )
        for row in rows
    ]


def trainer_busy(
    *, trainer: Trainer, since: datetime, until: datetime, exclude_booking_id: int | None = None
) -> tuple[list[slots.Busy], list[slots.Interval]]:
    """Active bookings and breaks that touch [since, until): one query each."""
    # Bookings depend on availability, not the reverse: the model is named, not imported.
    booking_model = apps.get_model("bookings", "Booking")
    bookings = booking_model.objects.filter(
        trainer=trainer,
        status__in=booking_model.ACTIVE_STATUSES,
        blocked_until__gt=since,
        blocked_from__lt=until,
    ).exclude(pk=exclude_booking_id)
    busy = [
        slots.Busy(start=start, end=end, blocked_from=blocked_from, blocked_until=blocked_until)
        for start, end, blocked_from, blocked_until in bookings.values_list(
            "start_time", "end_time", "blocked_from", "blocked_until"
        )
    ]
    breaks = [
        slots.Interval(start, end)
        for start, end in TrainerBreak.objects.filter(
            trainer=trainer, ends_at__gt=since, starts_at__lt=until
        ).values_list("starts_at", "ends_at")
    ]
    return busy, breaks


def day_span(*, zone: ZoneInfo, first_day: date, last_day: date, rules: slots.Rules) -> tuple[datetime, datetime]:
    """The instants bookings and breaks must be looked up between for slots on these days."""
    reach = rules.duration + rules.buffer_before + rules.buffer_after + timedelta(days=1)
    since = slots.local_midnight(first_day, zone) - reach
    until = slots.local_midnight(last_day + timedelta(days=1), zone) + reach
    return since, until


def available_slots(
    *,
    trainer: Trainer,
    session_type: SessionType,
    first_day: date,
    last_day: date,
    now: datetime | None = None,
) -> list[datetime]:
    """Bookable starts (UTC) for ``first_day``..``last_day``, dates in the trainer's zone."""
    check_offers(trainer=trainer, session_type=session_type)
    zone = ZoneInfo(trainer.timezone)
    rules = slot_rules(session_type)
    earliest, latest = booking_horizon(session_type, now or timezone.now())
    since, until = day_span(zone=zone, first_day=first_day, last_day=last_day, rules=rules)
    busy, breaks = trainer_busy(trainer=trainer, since=since, until=until)
    return slots.available_starts(
        windows=trainer_windows(trainer=trainer, first_day=first_day, last_day=last_day),
        zone=zone,
        first_day=first_day,
        last_day=last_day,
        rules=rules,
        busy=busy,
        breaks=breaks,
        earliest=earliest,
        latest=latest,
    )
