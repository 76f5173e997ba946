"""The studio's opening hours, derived from its trainers' weekly windows: pure functions, no ORM, no clock.

A window is wall-clock time in its trainer's zone; the studio's hours are the union, per weekday, of every
window converted to the studio's zone. The conversion depends on the date (the zones may change their clocks
on different days), so each window is converted on its weekday's date in a given week: the coming one on the
home page. A window that crosses midnight once converted (a trainer far to the west) is split over two days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class WeeklyWindow:
    day_of_week: int  # 0 = Monday
    start: time
    end: time
    zone: str


@dataclass(frozen=True)
class Opening:
    start: time
    end: time | None  # None: open until midnight

    def __str__(self) -> str:
        return f"{self.start:%H:%M}\u2013{'24:00' if self.end is None else format(self.end, '%H:%M')}"


@dataclass(frozen=True)
class DayHours:
    day_of_week: int
    openings: tuple[Opening, ...]

    @property
    def name(self) -> str:
        return DAY_NAMES[self.day_of_week]

    @property
    def is_open(self) -> bool:
        return bool(self.openings)


def _week_dates(week_start: date) -> dict[int, date]:
    return {(week_start + timedelta(days=offset)).weekday(): week_start + timedelta(days=offset) for offset in range(7)}


def _pieces(window: WeeklyWindow, day: date, studio_zone: ZoneInfo) -> Iterable[tuple[int, datetime, datetime]]:
    """The window on ``day`` in the studio's zone, split at the studio's midnights: (weekday, start, end)."""
    zone = ZoneInfo(window.zone)
    # fold=0 and a round trip through UTC: a start skipped by the clocks moves forward to a real instant.
    start = datetime.combine(day, window.start, zone).astimezone(studio_zone)
    end = datetime.combine(day, window.end, zone).astimezone(studio_zone)
    while start < end:
        midnight = datetime.combine(start.date() + timedelta(days=1), time(0), studio_zone)
        piece_end = min(end, midnight)
        yield start.weekday(), start, piece_end
        start = piece_end


def _minutes(moment: datetime, day: date) -> int:
    """Wall-clock minutes since ``day``'s midnight; the next midnight is 1440."""
    return 24 * 60 if moment.date() > day else moment.hour * 60 + moment.minute


def opening_hours(windows: Iterable[WeeklyWindow], *, studio_zone: str, week_start: date) -> list[DayHours]:
    """Per weekday (Monday first), the merged times, in ``studio_zone``, when at least one window is open."""
    zone = ZoneInfo(studio_zone)
    dates = _week_dates(week_start)
    per_day: dict[int, list[tuple[int, int]]] = {day: [] for day in range(7)}
    for window in windows:
        for weekday, start, end in _pieces(window, dates[window.day_of_week], zone):
            per_day[weekday].append((_minutes(start, start.date()), _minutes(end, start.date())))
    days = []
    for weekday in range(7):
        merged: list[list[int]] = []
        for start, end in sorted(per_day[weekday]):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        days.append(DayHours(weekday, tuple(_opening(start, end) for start, end in merged)))
    return days


def _opening(start: int, end: int) -> Opening:
    return Opening(time(*divmod(start, 60)), None if end >= 24 * 60 else time(*divmod(end, 60)))
