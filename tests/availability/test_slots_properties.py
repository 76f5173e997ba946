"""Properties of the pure slot algorithm over random windows, zones, dates around DST changes, bookings and breaks.

The references below work differently from ``slots.py`` on purpose: instead of converting wall-clock times to
instants (folds, round trips, a binary search over a gap), they read the clock at every instant of a five-minute
UTC grid and keep what the rules allow. Every window time, interval, duration and UTC offset used here is a
multiple of five minutes, so every start the algorithm can produce lies on that grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tenant_apps.availability.slots import (
    Busy,
    Interval,
    Rules,
    Window,
    available_starts,
    candidate_starts,
    instants_of,
    local_midnight,
    window_bounds,
)

STEP = timedelta(minutes=5)
FIRST_YEAR, LAST_YEAR = 2010, 2027

ZONES = (
    "UTC",
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/Sao_Paulo",  # changed at midnight until 2019: midnight itself skipped, 23:00 repeated
    "America/Havana",  # springs forward at midnight, falls back at 01:00 to midnight
    "Asia/Kolkata",  # +05:30, no DST
    "Pacific/Apia",  # skipped 2011-12-30 entirely when it crossed the date line
    "Antarctica/Troll",  # a two-hour DST shift
    "Africa/Casablanca",  # DST suspended for Ramadan: four changes in some years
    "Australia/Sydney",
    "America/Santiago",  # falls back at midnight: the last hour of a Saturday is repeated
    "Asia/Kathmandu",  # +05:45
)

properties = settings(max_examples=200, deadline=None)


@dataclass(frozen=True)
class Change:
    """A change of a zone's UTC offset, as the clock shows it: it jumps from ``wall_before`` to ``wall_after``."""

    wall_before: datetime
    wall_after: datetime


@cache
def changes_of(zone_name: str) -> tuple[Change, ...]:
    """Every offset change from FIRST_YEAR to LAST_YEAR: a reading at each UTC midnight finds the day, then one
    every five minutes finds the moment."""
    zone = ZoneInfo(zone_name)
    found = []
    day = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
    while day.year <= LAST_YEAR:
        following = day + timedelta(days=1)
        offset = day.astimezone(zone).utcoffset()
        if following.astimezone(zone).utcoffset() != offset:
            instant = day
            while instant.astimezone(zone).utcoffset() == offset:
                instant += STEP
            before = (instant + offset).replace(tzinfo=None)
            found.append(Change(before, instant.astimezone(zone).replace(tzinfo=None, fold=0)))
        day = following
    return tuple(found)


# -- references -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    instant: datetime
    wall: datetime  # naive local time
    is_repeat: bool  # the second time this wall-clock time is shown (clocks went back)


@lru_cache(maxsize=256)
def readings(zone_name: str, first_day: date, last_day: date) -> tuple[Reading, ...]:
    """The zone's clock read every five minutes from well before ``first_day`` begins to well after
    ``last_day`` ends anywhere on Earth (offsets run from -12:00 to +14:00)."""
    zone = ZoneInfo(zone_name)
    instant = datetime.combine(first_day, time(0), UTC) - timedelta(hours=15)
    stop = datetime.combine(last_day + timedelta(days=1), time(0), UTC) + timedelta(hours=15)
    found = []
    while instant <= stop:
        local = instant.astimezone(zone)
        found.append(Reading(instant, local.replace(tzinfo=None, fold=0), local.fold == 1))
        instant += STEP
    return tuple(found)


def first_instant_showing_at_least(wall: datetime, grid: tuple[Reading, ...]) -> datetime:
    return min(reading.instant for reading in grid if reading.wall >= wall)


def reference_bounds(window: Window, day: date, zone_name: str) -> Interval:
    """From the first instant the clock shows the window's start (or, if that time is skipped, the first
    instant after it) to the last instant it shows the window's end (or the first one after it)."""
    grid = readings(zone_name, day, day)
    start_wall, end_wall = datetime.combine(day, window.start), datetime.combine(day, window.end)
    showing_end = [reading.instant for reading in grid if reading.wall == end_wall]
    end = max(showing_end) if showing_end else first_instant_showing_at_least(end_wall, grid)
    return Interval(first_instant_showing_at_least(start_wall, grid), end)


def is_step(window: Window, wall: datetime, rules: Rules) -> bool:
    start_wall = datetime.combine(wall.date(), window.start)
    end_wall = datetime.combine(wall.date(), window.end)
    return start_wall <= wall < end_wall and (wall - start_wall) % rules.interval == timedelta(0)


def fits(slot: datetime, duration: timedelta, bounds: Interval) -> bool:
    return bounds.start <= slot and slot + duration <= bounds.end


def reference_candidates(
    windows: list[Window], zone_name: str, first_day: date, last_day: date, rules: Rules
) -> list[datetime]:
    """Every instant whose clock reading is a window's step on a date in range, shown for the first time that
    day, from which the session fits inside the window."""
    found = []
    for reading in readings(zone_name, first_day, last_day):
        day = reading.wall.date()
        if reading.is_repeat or not first_day <= day <= last_day:
            continue
        if any(
            window.applies_to(day)
            and is_step(window, reading.wall, rules)
            and fits(reading.instant, rules.duration, reference_bounds(window, day, zone_name))
            for window in windows
        ):
            found.append(reading.instant)
    return found


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    # Half-open intervals: one that ends exactly when the other starts does not overlap it.
    return a_start < b_end and b_start < a_end


def collides_with_booking(slot: datetime, rules: Rules, booking: Busy) -> bool:
    end = slot + rules.duration
    widened_into_booking = overlaps(slot - rules.buffer_before, end + rules.buffer_after, booking.start, booking.end)
    into_bookings_buffers = overlaps(slot, end, booking.blocked_from, booking.blocked_until)
    return widened_into_booking or into_bookings_buffers


def collides_with_break(slot: datetime, rules: Rules, pause: Interval) -> bool:
    return overlaps(slot, slot + rules.duration, pause.start, pause.end)


# -- strategies -----------------------------------------------------------------------------------------


def clock_time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


five_minutes = st.integers(min_value=1, max_value=48).map(lambda count: timedelta(minutes=5 * count))
buffers = st.integers(min_value=0, max_value=12).map(lambda count: timedelta(minutes=5 * count))
jitter = st.sampled_from([0, 0, -1, 1]).map(lambda steps: steps * STEP)
intervals = st.sampled_from([5, 10, 15, 20, 25, 30, 40, 45, 60, 90, 120]).map(lambda m: timedelta(minutes=m))


@st.composite
def windows_for(draw, days: list[date], change: Change | None) -> Window:
    if change is not None and draw(st.booleans()):
        # Up to three hours before the clocks change, so the window's steps fall in the gap or the repeat.
        wall = draw(st.sampled_from([change.wall_before, change.wall_after]))
        wall -= draw(st.integers(min_value=0, max_value=36)) * STEP
        day, start = wall.date(), min(wall.hour * 60 + wall.minute, 286 * 5)
    else:
        day, start = draw(st.sampled_from(days)), draw(st.integers(min_value=0, max_value=286)) * 5
    end = draw(st.integers(min_value=start // 5 + 1, max_value=287)) * 5
    if draw(st.booleans()):
        return Window(clock_time(start), clock_time(end), day_of_week=day.weekday())
    return Window(clock_time(start), clock_time(end), on_date=day)


@dataclass(frozen=True)
class Scenario:
    zone_name: str
    first_day: date
    last_day: date
    windows: list[Window]
    rules: Rules
    busy: list[Busy]
    breaks: list[Interval]
    earliest: datetime
    latest: datetime

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.zone_name)

    def candidates(self) -> list[datetime]:
        return candidate_starts(self.windows, self.zone, self.first_day, self.last_day, self.rules)

    def available(self) -> list[datetime]:
        return available_starts(
            windows=self.windows,
            zone=self.zone,
            first_day=self.first_day,
            last_day=self.last_day,
            rules=self.rules,
            busy=self.busy,
            breaks=self.breaks,
            earliest=self.earliest,
            latest=self.latest,
        )


@st.composite
def scenarios(draw) -> Scenario:
    zone_name = draw(st.sampled_from(ZONES))
    changes = changes_of(zone_name)
    change = draw(st.one_of(st.none(), st.sampled_from(changes))) if changes else None
    if change is None:
        pivot = draw(st.dates(date(FIRST_YEAR, 1, 2), date(LAST_YEAR, 12, 20)))
    else:
        pivot = draw(st.sampled_from([change.wall_before.date(), change.wall_after.date()]))
    days_before = draw(st.integers(min_value=0, max_value=2))
    first_day = pivot - timedelta(days=days_before)
    days = [first_day + timedelta(days=offset) for offset in range(days_before + draw(st.integers(1, 3)))]
    # Include the days either side, so some one-off and weekly windows fall outside the range asked for.
    window_days = [days[0] - timedelta(days=1), *days, days[-1] + timedelta(days=1)]
    windows = draw(st.lists(windows_for(window_days, change), min_size=1, max_size=4))

    rules = Rules(
        duration=draw(five_minutes),
        interval=draw(intervals),
        buffer_before=draw(buffers),
        buffer_after=draw(buffers),
    )

    origin = datetime.combine(days[0], time(0), UTC) - timedelta(hours=15)
    grid_size = (len(days) * 24 + 30) * 12
    anywhere = st.integers(min_value=0, max_value=grid_size).map(lambda index: origin + index * STEP)
    # Bookings, breaks and cut-offs placed at random rarely meet a slot exactly, and the boundaries are where
    # the bugs are: most are placed so that one of their edges meets a slot's edge, give or take one step.
    candidates = candidate_starts(windows, ZoneInfo(zone_name), days[0], days[-1], rules)

    def placed(meeting: list[timedelta]) -> datetime:
        """A slot's start plus one of the offsets given, give or take a step; now and then anywhere at all."""
        if not candidates or draw(st.integers(min_value=0, max_value=3)) == 0:
            return draw(anywhere)
        start = candidates[draw(st.integers(min_value=0, max_value=len(candidates) - 1))]
        return start + meeting[draw(st.integers(min_value=0, max_value=len(meeting) - 1))] + draw(jitter)

    duration, before, after = rules.duration, rules.buffer_before, rules.buffer_after
    busy = []
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        length, kept_before, kept_after = draw(five_minutes), draw(buffers), draw(buffers)
        start = placed(
            [
                duration + after,  # the slot's buffer ends as the booking starts
                duration + kept_before,  # the slot ends as the booking's buffer begins
                -before - length,  # the booking ends as the slot's buffer begins
                -kept_after - length,  # the booking's buffer ends as the slot starts
            ]
        )
        busy.append(Busy(start, start + length, start - kept_before, start + length + kept_after))
    breaks = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        length = draw(st.one_of(five_minutes, st.integers(min_value=1, max_value=48).map(lambda h: h * 12 * STEP)))
        start = placed([duration, -length])  # the slot ends as the break starts, or starts as it ends
        breaks.append(Interval(start, start + length))

    earliest = origin if draw(st.booleans()) else placed([timedelta(0)])
    steps_later = st.integers(min_value=0, max_value=grid_size).map(lambda count: earliest + count * STEP)
    latest = draw(st.one_of(st.just(origin + grid_size * STEP), steps_later))
    if draw(st.booleans()):
        latest = placed([timedelta(0)])
    return Scenario(zone_name, days[0], days[-1], windows, rules, busy, breaks, earliest, latest)


def open_scenario(zone_name: str, day: date, windows: list[Window], rules: Rules) -> Scenario:
    """A scenario with nothing booked and no cut-offs, for pinning a DST day as an explicit example."""
    far = datetime.combine(day, time(0), UTC)
    return Scenario(zone_name, day, day, windows, rules, [], [], far - timedelta(days=3), far + timedelta(days=3))


HOURLY = Rules(duration=timedelta(minutes=60), interval=timedelta(minutes=60))
HALF_HOURLY = Rules(duration=timedelta(minutes=30), interval=timedelta(minutes=30))
LONDON_SPRING = open_scenario("Europe/London", date(2026, 3, 29), [Window(time(0, 30), time(3), 6)], HALF_HOURLY)
LONDON_AUTUMN = open_scenario("Europe/London", date(2026, 10, 25), [Window(time(0), time(3), 6)], HOURLY)
SAO_PAULO_MIDNIGHT = open_scenario(
    "America/Sao_Paulo", date(2018, 11, 4), [Window(time(0), time(2), on_date=date(2018, 11, 4))], HALF_HOURLY
)
# The last hour of the day happened twice: the day's first and last seconds share an offset, yet it isn't steady.
SAO_PAULO_REPEATED_EVENING = open_scenario(
    "America/Sao_Paulo", date(2010, 2, 20), [Window(time(22), time(23, 30), on_date=date(2010, 2, 20))], HOURLY
)
APIA_MISSING_DAY = open_scenario("Pacific/Apia", date(2011, 12, 30), [Window(time(8), time(12), 4)], HOURLY)


# -- the properties -------------------------------------------------------------------------------------


@properties
@given(scenarios())
def test_slots_are_sorted_unique_and_in_utc(scenario):
    slots = scenario.available()

    assert slots == sorted(set(slots))
    assert all(slot.tzinfo is not None and slot.utcoffset() == timedelta(0) for slot in slots)


@properties
@given(scenarios())
@example(LONDON_SPRING)
@example(LONDON_AUTUMN)
def test_every_slot_starts_on_a_window_step_and_fits_inside_that_window(scenario):
    zone, rules = scenario.zone, scenario.rules

    slots = scenario.available()

    for slot in slots:
        local = slot.astimezone(zone)
        day, wall = local.date(), local.replace(tzinfo=None)
        assert scenario.first_day <= day <= scenario.last_day
        assert any(
            window.applies_to(day)
            and is_step(window, wall, rules)
            and fits(slot, rules.duration, window_bounds(window, day, zone))
            for window in scenario.windows
        ), f"{slot} ({local}) is not a step of any window that holds it"


@properties
@given(scenarios())
def test_no_slot_widened_by_its_buffers_overlaps_a_booking_nor_reaches_into_a_bookings_buffers(scenario):
    slots = scenario.available()

    for slot in slots:
        for booking in scenario.busy:
            assert not collides_with_booking(slot, scenario.rules, booking), (slot, booking)


@properties
@given(scenarios())
def test_no_slot_overlaps_a_break(scenario):
    slots = scenario.available()

    for slot in slots:
        for pause in scenario.breaks:
            assert not collides_with_break(slot, scenario.rules, pause), (slot, pause)


@properties
@given(scenarios())
def test_every_slot_lies_between_earliest_and_latest_inclusive(scenario):
    slots = scenario.available()

    assert all(scenario.earliest <= slot <= scenario.latest for slot in slots)


@properties
@given(scenarios())
@example(LONDON_SPRING)
@example(LONDON_AUTUMN)
@example(SAO_PAULO_MIDNIGHT)
def test_a_skipped_local_time_is_never_offered_and_a_repeated_one_only_at_its_first_occurrence(scenario):
    zone = scenario.zone

    slots = scenario.available()

    shown = [slot.astimezone(zone) for slot in slots]
    # A skipped time "normalised" onto a real instant shows a reading that is not the step asked for; taking
    # the step from the reading (not from what was requested) catches that.
    for local in shown:
        wall = local.replace(tzinfo=None)
        assert any(
            window.applies_to(wall.date()) and is_step(window, wall, scenario.rules) for window in scenario.windows
        )
    # Offering both occurrences of a repeated time would show one reading twice.
    assert len({local.replace(tzinfo=None, fold=0) for local in shown}) == len(shown)
    assert all(local.fold == 0 for local in shown)


@properties
@given(scenarios())
@example(LONDON_SPRING)
@example(APIA_MISSING_DAY)
def test_available_starts_are_exactly_the_candidates_that_a_brute_force_check_lets_through(scenario):
    rules = scenario.rules

    slots = scenario.available()

    # One booking and break at a time, no merging or bisecting: the fast path must agree with this.
    expected = [
        start
        for start in scenario.candidates()
        if scenario.earliest <= start <= scenario.latest
        and not any(collides_with_booking(start, rules, booking) for booking in scenario.busy)
        and not any(collides_with_break(start, rules, pause) for pause in scenario.breaks)
    ]
    assert slots == expected


@properties
@given(scenarios())
@example(LONDON_SPRING)
@example(LONDON_AUTUMN)
@example(SAO_PAULO_MIDNIGHT)
@example(SAO_PAULO_REPEATED_EVENING)
@example(APIA_MISSING_DAY)
def test_candidate_starts_match_a_reference_that_reads_the_clock_every_five_minutes(scenario):
    candidates = scenario.candidates()

    assert candidates == reference_candidates(
        scenario.windows, scenario.zone_name, scenario.first_day, scenario.last_day, scenario.rules
    )


@st.composite
def zone_days(draw) -> tuple[str, date]:
    zone_name = draw(st.sampled_from(ZONES))
    changes = changes_of(zone_name)
    days_of_changes = sorted(
        {day for change in changes for day in (change.wall_before.date(), change.wall_after.date())}
    )
    any_day = st.dates(date(FIRST_YEAR, 1, 2), date(LAST_YEAR, 12, 20))
    return zone_name, draw(st.one_of(st.sampled_from(days_of_changes), any_day) if changes else any_day)


@properties
@given(zone_days(), st.integers(min_value=0, max_value=286), st.integers(min_value=1, max_value=287))
@example(("Pacific/Apia", date(2011, 12, 30)), 8 * 12, 10 * 12)
@example(("Antarctica/Troll", date(2026, 3, 29)), 1 * 12 + 6, 2 * 12 + 6)
def test_window_bounds_and_instants_of_match_the_clock_read_every_five_minutes(zone_day, start_step, length_steps):
    zone_name, day = zone_day
    zone = ZoneInfo(zone_name)
    end_step = min(start_step + length_steps, 287)
    window = Window(clock_time(start_step * 5), clock_time(end_step * 5), on_date=day)
    grid = readings(zone_name, day, day)

    assert window_bounds(window, day, zone) == reference_bounds(window, day, zone_name)
    for wall in (window.start, window.end):
        showing = [reading.instant for reading in grid if reading.wall == datetime.combine(day, wall)]
        assert instants_of(day, wall, zone) == showing
    assert local_midnight(day, zone) == first_instant_showing_at_least(datetime.combine(day, time(0)), grid)
