from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.apps import apps
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from shared_apps.accounts.models import User
from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.tenancy import studio_timezone
from tenant_apps.availability import slots
from tenant_apps.availability.models import AvailabilitySlot, TrainerBreak
from tenant_apps.trainers.models import SessionType, Trainer


class SessionTypeNotOffered(ApplicationError):
    code = "session_type_not_offered"
    message = "This trainer does not offer this session type."

    def __init__(self):
        super().__init__(fields={"session_type": [self.message]})


def check_offers(*, trainer: Trainer, session_type: SessionType) -> None:
    if not SessionType.trainers.through.objects.filter(sessiontype_id=session_type.pk, trainer_id=trainer.pk).exists():
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


_WINDOWS = """
    SELECT trainer_id, start_time, end_time, is_recurring, day_of_week, date
      FROM {window}
     WHERE trainer_id = ANY(%(trainers)s) AND is_active
       AND (is_recurring OR date BETWEEN %(first_day)s AND %(last_day)s)
"""


def _windows_by_trainer(*, trainer_ids: list[int], first_day: date, last_day: date) -> dict[int, list[slots.Window]]:
    """The trainers' active windows that can apply to ``first_day``..``last_day`` (every weekly one, the dated
    ones on those days), by trainer id. SQL for the reason ``_CALENDAR_ROWS`` is."""
    windows: dict[int, list[slots.Window]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            _WINDOWS.format(window=connection.ops.quote_name(AvailabilitySlot._meta.db_table)),
            {"trainers": list(trainer_ids), "first_day": first_day, "last_day": last_day},
        )
        for trainer_id, start_time, end_time, is_recurring, day_of_week, on_date in cursor.fetchall():
            windows[trainer_id].append(
                slots.Window(
                    start=start_time,
                    end=end_time,
                    day_of_week=day_of_week if is_recurring else None,
                    on_date=None if is_recurring else on_date,
                )
            )
    return windows


def trainer_windows(*, trainer: Trainer, first_day: date, last_day: date) -> list[slots.Window]:
    return _windows_by_trainer(trainer_ids=[trainer.pk], first_day=first_day, last_day=last_day)[trainer.pk]


# What keeps trainers from starting a session, in one round trip: their active bookings and guests' live holds
# (buffers included: the blocked span) and their breaks that touch [since, until). Written as SQL: it runs under
# the trainer's lock on every booking, where building three ORM queries cost more than the database's answer.
# The bookings' condition is the GiST index's (``booking_blocked_per_trainer``: trainer, tstzrange of the blocked
# span, active statuses), so the index answers it.
_CALENDAR_ROWS = """
    SELECT trainer_id, TRUE, start_time, end_time, blocked_from, blocked_until
      FROM {booking}
     WHERE {trainer} AND status IN ({active}) AND {not_excluded}
       AND TSTZRANGE(blocked_from, blocked_until) && TSTZRANGE(%(since)s, %(until)s)
    UNION ALL
    SELECT trainer_id, TRUE, start_time, end_time, blocked_from, blocked_until
      FROM {hold}
     WHERE {trainer} AND confirmed_at IS NULL AND expires_at > %(now)s
       AND blocked_until > %(since)s AND blocked_from < %(until)s
    UNION ALL
    SELECT trainer_id, FALSE, starts_at, ends_at, NULL, NULL
      FROM {break_}
     WHERE {trainer} AND ends_at > %(since)s AND starts_at < %(until)s
"""


def _calendar_rows(
    *, trainer_ids: list[int], since: datetime, until: datetime, exclude_booking_id: int | None = None
) -> tuple[dict[int, list[slots.Busy]], dict[int, list[slots.Interval]]]:
    """Busy spans (bookings and holds) and breaks touching [since, until), by trainer id. A guest's live hold
    (unconfirmed, unexpired now) keeps the time like a booking until it is confirmed (then the booking does).
    ``exclude_booking_id``: a booking being moved, whose own time doesn't count against it."""
    # Bookings depend on availability, not the reverse: the models are named, not imported.
    booking_model = apps.get_model("bookings", "Booking")
    quote = connection.ops.quote_name
    sql = _CALENDAR_ROWS.format(
        booking=quote(booking_model._meta.db_table),
        hold=quote(apps.get_model("bookings", "BookingHold")._meta.db_table),
        break_=quote(TrainerBreak._meta.db_table),
        # One trainer: an equality the GiST index's first column answers (it can't search an array).
        trainer="trainer_id = %(trainer)s" if len(trainer_ids) == 1 else "trainer_id = ANY(%(trainers)s)",
        active=", ".join(f"'{status}'" for status in booking_model.ACTIVE_STATUSES),
        not_excluded="id <> %(exclude)s" if exclude_booking_id is not None else "TRUE",
    )
    params = {
        "trainer": trainer_ids[0] if trainer_ids else None,
        "trainers": list(trainer_ids),
        "since": since,
        "until": until,
        "now": timezone.now(),
        "exclude": exclude_booking_id,
    }
    busy: dict[int, list[slots.Busy]] = defaultdict(list)
    breaks: dict[int, list[slots.Interval]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for trainer_id, is_busy, start, end, blocked_from, blocked_until in cursor.fetchall():
            if is_busy:
                busy[trainer_id].append(slots.Busy(start, end, blocked_from, blocked_until))
            else:
                breaks[trainer_id].append(slots.Interval(start, end))
    return busy, breaks


def trainer_busy(
    *, trainer: Trainer, since: datetime, until: datetime, exclude_booking_id: int | None = None
) -> tuple[list[slots.Busy], list[slots.Interval]]:
    """The trainer's active bookings and guests' live holds (``slots.Busy``), and breaks, that touch
    [since, until): one query."""
    busy, breaks = _calendar_rows(
        trainer_ids=[trainer.pk], since=since, until=until, exclude_booking_id=exclude_booking_id
    )
    return busy[trainer.pk], breaks[trainer.pk]


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


# -- "any available trainer" -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamSlot:
    """A start (UTC) at which at least one trainer offering the session type is free; ``trainers``: their ids."""

    start: datetime
    trainers: tuple[int, ...]


@dataclass(frozen=True)
class TrainerStarts:
    """One trainer's starts on the days asked: those their windows allow (``grid``), and those still free."""

    grid: frozenset[datetime]
    free: list[datetime]


def offering_trainers(session_type: SessionType) -> QuerySet[Trainer]:
    """The active trainers who offer ``session_type``, in id order (the order their locks are taken in)."""
    return Trainer.objects.filter(is_active=True, session_types=session_type).order_by("pk")


def studio_day_bounds(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """The instants the studio's days ``first_day``..``last_day`` span, in the studio's zone: [since, until)."""
    zone = ZoneInfo(studio_timezone())
    return slots.local_midnight(first_day, zone), slots.local_midnight(last_day + timedelta(days=1), zone)


def team_starts(
    *,
    trainers: list[Trainer],
    session_type: SessionType,
    first_day: date,
    last_day: date,
    now: datetime,
    exclude_booking_id: int | None = None,
) -> dict[int, TrainerStarts]:
    """Each trainer's starts on the studio's days ``first_day``..``last_day``, by trainer id, each by the
    trainer's own rules (windows in their zone, breaks, buffered bookings; the session type's notice and horizon).

    Two queries whatever the number of trainers: their windows, and their bookings, guests' holds and breaks.
    """
    if not trainers:
        return {}
    rules = slot_rules(session_type)
    earliest, latest = booking_horizon(session_type, now)
    day_start, day_end = studio_day_bounds(first_day, last_day)
    since, until = day_span(zone=ZoneInfo(studio_timezone()), first_day=first_day, last_day=last_day, rules=rules)
    ids = [trainer.pk for trainer in trainers]

    # Clocks around the world are at most 26 hours apart: a studio day meets a trainer's days two either side.
    windows = _windows_by_trainer(
        trainer_ids=ids, first_day=first_day - timedelta(days=2), last_day=last_day + timedelta(days=2)
    )
    busy, breaks = _calendar_rows(trainer_ids=ids, since=since, until=until, exclude_booking_id=exclude_booking_id)

    found = {}
    for trainer in trainers:
        zone = ZoneInfo(trainer.timezone)
        # The trainer's own dates that the studio's days touch; starts outside the studio's days are dropped.
        local_first = day_start.astimezone(zone).date()
        local_last = (day_end - timedelta(microseconds=1)).astimezone(zone).date()
        grid = [
            start
            for start in slots.candidate_starts(windows[trainer.pk], zone, local_first, local_last, rules)
            if day_start <= start < day_end
        ]
        found[trainer.pk] = TrainerStarts(
            grid=frozenset(grid),
            free=slots.free_among(
                grid, rules=rules, busy=busy[trainer.pk], breaks=breaks[trainer.pk], earliest=earliest, latest=latest
            ),
        )
    return found


def available_slots_on_studio_days(
    *,
    trainer: Trainer,
    session_type: SessionType,
    first_day: date,
    last_day: date,
    now: datetime | None = None,
    exclude_booking_id: int | None = None,
) -> list[datetime]:
    """The trainer's bookable starts (UTC, sorted) on the studio's days ``first_day``..``last_day``, whatever
    the trainer's own zone (``available_slots`` takes the trainer's dates): what a page in the studio's zone
    shows. ``exclude_booking_id``: a booking being moved, whose own time doesn't count against it."""
    check_offers(trainer=trainer, session_type=session_type)
    starts = team_starts(
        trainers=[trainer],
        session_type=session_type,
        first_day=first_day,
        last_day=last_day,
        now=now or timezone.now(),
        exclude_booking_id=exclude_booking_id,
    )
    return sorted(starts[trainer.pk].free)


def available_slots_any_trainer(
    *,
    session_type: SessionType,
    first_day: date,
    last_day: date,
    now: datetime | None = None,
) -> list[TeamSlot]:
    """Bookable starts (UTC, sorted) with any trainer who offers ``session_type``: the union of each active
    trainer's own slots, each saying which trainers are free then. ``first_day``..``last_day`` are the studio's
    dates (in the studio's zone), as trainers may live in other zones.

    Five queries whatever the number of trainers (``team_starts``, and the trainers themselves).
    """
    trainers = list(offering_trainers(session_type))
    starts = team_starts(
        trainers=trainers,
        session_type=session_type,
        first_day=first_day,
        last_day=last_day,
        now=now or timezone.now(),
    )
    free_by_start: dict[datetime, list[int]] = defaultdict(list)
    for trainer in trainers:  # in id order, so each slot's trainers are too
        for start in starts[trainer.pk].free:
            free_by_start[start].append(trainer.pk)
    return [TeamSlot(start=start, trainers=tuple(free_by_start[start])) for start in sorted(free_by_start)]


def break_clashes(*, trainer: Trainer, starts_at: datetime, ends_at: datetime) -> QuerySet:
    """The trainer's active bookings whose session meets [starts_at, ends_at): what time off there would clash
    with (time off cancels nothing; these stay booked until the studio moves or cancels them)."""
    booking_model = apps.get_model("bookings", "Booking")
    return (
        booking_model.objects.filter(
            trainer=trainer,
            status__in=booking_model.ACTIVE_STATUSES,
            start_time__lt=ends_at,
            end_time__gt=starts_at,
        )
        .select_related("client", "session_type")
        .order_by("start_time", "pk")
    )
