"""Which start times a trainer can be booked at: pure functions, no ORM, no clock.

Windows are wall-clock times in the trainer's zone and are expanded per date with ``zoneinfo``:

- slots start every ``interval`` from each window's start, in wall-clock time, and must fit entirely (in real,
  elapsed time) between the window's first and last instants;
- a start time that does not exist that day (the hour skipped when clocks go forward) is not offered;
- a start time that happens twice (the hour repeated when clocks go back) is offered once, at its first
  occurrence.

A slot is then refused when it starts before ``earliest`` (now + notice) or after ``latest`` (now + horizon),
when it overlaps a break, or when it and an active booking get in each other's way: the slot widened by the
session type's buffers may not overlap the booking, and the slot may not overlap the booking widened by the
buffers it was booked with.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Window:
    """A window of wall-clock time: weekly on ``day_of_week`` (0 = Monday) or once on ``on_date``."""

    start: time
    end: time
    day_of_week: int | None = None
    on_date: date | None = None

    def applies_to(self, day: date) -> bool:
        if self.on_date is not None:
            return self.on_date == day
        return self.day_of_week == day.weekday()


@dataclass(frozen=True)
class Busy:
    """An active booking: its session and the time it keeps from others (session widened by its buffers)."""

    start: datetime
    end: datetime
    blocked_from: datetime
    blocked_until: datetime


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Rules:
    duration: timedelta
    interval: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)


# -- wall-clock time → instants -------------------------------------------------------------------------


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    # Through UTC: astimezone() to the zone an aware time already carries returns it unnormalised.
    return instant.astimezone(UTC).astimezone(zone).replace(tzinfo=None)


def instants_of(day: date, wall: time, zone: ZoneInfo) -> list[datetime]:
    """The UTC instants at which clocks in ``zone`` show ``wall`` on ``day``: none, one, or two."""
    naive = datetime.combine(day, wall)
    found = {
        candidate.astimezone(UTC)
        for fold in (0, 1)
        if _wall(candidate := naive.replace(tzinfo=zone, fold=fold), zone) == naive
    }
    return sorted(found)


def _first_instant_at_or_after(naive: datetime, zone: ZoneInfo) -> datetime:
    """The first instant whose wall-clock time is ``naive`` or later (for a time in a gap: the gap's end)."""
    guesses = sorted(naive.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))
    low, high = guesses[0] - timedelta(hours=1), guesses[-1] + timedelta(hours=1)
    # Offsets change by whole minutes; search to the second all the same.
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if _wall(middle, zone) >= naive:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant ``day`` begins in ``zone`` (in a few zones midnight itself is skipped once a year)."""
    # Nearly always midnight exists: its first instant, without the search a skipped midnight needs.
    found = instants_of(day, time(0), zone)
    return found[0] if found else _first_instant_at_or_after(datetime.combine(day, time(0)), zone)


def window_bounds(window: Window, day: date, zone: ZoneInfo) -> Interval:
    """The real instants a window spans on ``day``: from its first moment to its last one."""
    start = instants_of(day, window.start, zone)
    end = instants_of(day, window.end, zone)
    start_at = start[0] if start else _first_instant_at_or_after(datetime.combine(day, window.start), zone)
    end_at = end[-1] if end else _first_instant_at_or_after(datetime.combine(day, window.end), zone)
    return Interval(start_at, end_at)


def candidate_starts(windows: Iterable[Window], zone: ZoneInfo, first_day: date, last_day: date, rules: Rules):
    """Every start the windows allow from ``first_day`` to ``last_day`` (inclusive, local dates), before any
    booking, break, notice or horizon is considered. Sorted and unique, in UTC."""
    weekly: dict[int, list[Window]] = {}
    dated: dict[date, list[Window]] = {}
    for window in windows:
        if window.on_date is not None:
            dated.setdefault(window.on_date, []).append(window)
        else:
            weekly.setdefault(window.day_of_week, []).append(window)
    starts: set[datetime] = set()
    day = first_day
    while day <= last_day:
        todays = weekly.get(day.weekday(), []) + dated.get(day, [])
        if todays:
            offset = _steady_offset(day, zone)
            for window in todays:
                if offset is None:
                    starts.update(_window_starts(window, day, zone, rules))
                else:
                    starts.update(_steady_window_starts(window, day, offset, rules))
        day += timedelta(days=1)
    return sorted(starts)


def _steady_offset(day: date, zone: ZoneInfo) -> timedelta | None:
    """The zone's offset on ``day`` when its clocks don't change that day (nearly always), else None.

    Zones change their clocks at most once a day, so one offset for the day's first and last second, each
    existing (Samoa skipped 30 December 2011 whole) and happening once (Sao Paulo repeated the last hour of
    20 February 2010), means no change that day.
    """
    ends = [
        datetime.combine(day, moment, tzinfo=zone).replace(fold=fold)
        for moment in (time(0), time(23, 59, 59))
        for fold in (0, 1)
    ]
    offsets = {end.utcoffset() for end in ends}
    if len(offsets) != 1 or any(_wall(end, zone) != end.replace(tzinfo=None, fold=0) for end in ends):
        return None
    return offsets.pop()


def _steady_window_starts(window: Window, day: date, offset: timedelta, rules: Rules) -> Iterator[datetime]:
    # Without a clock change, wall-clock time is UTC shifted by the offset: no zone arithmetic per slot.
    start = datetime.combine(day, window.start, tzinfo=UTC) - offset
    end = datetime.combine(day, window.end, tzinfo=UTC) - offset
    while start + rules.duration <= end:
        yield start
        start += rules.interval


def _window_starts(window: Window, day: date, zone: ZoneInfo, rules: Rules) -> Iterator[datetime]:
    bounds = window_bounds(window, day, zone)
    wall = datetime.combine(day, window.start)
    wall_end = datetime.combine(day, window.end)
    while wall < wall_end:
        instants = instants_of(day, wall.time(), zone)
        if instants:  # a wall-clock time that doesn't exist today is skipped; a repeated one offered once
            start = instants[0]
            if start >= bounds.start and start + rules.duration <= bounds.end:
                yield start
        wall += rules.interval


# -- what rules a start out -----------------------------------------------------------------------------


def forbidden_starts(rules: Rules, busy: Iterable[Busy], breaks: Iterable[Interval]) -> list[Interval]:
    """Open intervals of start instants that collide with a booking or a break, merged and sorted."""
    duration, before, after = rules.duration, rules.buffer_before, rules.buffer_after
    intervals = [Interval(b.start - duration, b.end) for b in breaks]
    for booking in busy:
        # This slot's buffers may not reach into the booking, nor the slot into the booking's buffers.
        intervals.append(
            Interval(
                min(booking.start - duration - after, booking.blocked_from - duration),
                max(booking.end + before, booking.blocked_until),
            )
        )
    intervals.sort(key=lambda interval: interval.start)
    merged: list[Interval] = []
    for interval in intervals:
        if merged and interval.start < merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def free_among(
    grid: Iterable[datetime],
    *,
    rules: Rules,
    busy: Iterable[Busy],
    breaks: Iterable[Interval],
    earliest: datetime,
    latest: datetime,
) -> list[datetime]:
    """The starts of ``grid`` (sorted) still bookable: inside [earliest, latest], clear of every booking (with
    both sides' buffers) and break."""
    forbidden = forbidden_starts(rules, busy, breaks)
    starts_of_forbidden = [interval.start for interval in forbidden]
    return [
        start
        for start in grid
        if earliest <= start <= latest and not is_forbidden(start, forbidden, starts_of_forbidden)
    ]


def is_forbidden(start: datetime, forbidden: list[Interval], starts_of_forbidden: list[datetime]) -> bool:
    index = bisect_right(starts_of_forbidden, start) - 1
    # Merged intervals are disjoint, so only the last one starting at or before ``start`` can hold it.
    return index >= 0 and forbidden[index].start < start < forbidden[index].end


def available_starts(
    *,
    windows: Iterable[Window],
    zone: ZoneInfo,
    first_day: date,
    last_day: date,
    rules: Rules,
    busy: Iterable[Busy] = (),
    breaks: Iterable[Interval] = (),
    earliest: datetime,
    latest: datetime,
) -> list[datetime]:
    """The start instants (UTC, sorted, unique) a client may book."""
    forbidden = forbidden_starts(rules, busy, breaks)
    starts_of_forbidden = [interval.start for interval in forbidden]
    return [
        start
        for start in candidate_starts(windows, zone, first_day, last_day, rules)
        if earliest <= start <= latest and not is_forbidden(start, forbidden, starts_of_forbidden)
    ]
