"""Worked examples of the slot algorithm with exact UTC instants: ordinary days, DST changes in several zones,
a trainer abroad, intervals, buffers, breaks, cut-offs and one-off windows."""

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tenant_apps.availability.slots import Busy, Interval, Rules, Window, available_starts, window_bounds

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
APIA = ZoneInfo("Pacific/Apia")

MONDAY, TUESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = 0, 1, 3, 4, 5, 6

HOURLY = Rules(duration=timedelta(minutes=60), interval=timedelta(minutes=60))
HALF_HOURLY = Rules(duration=timedelta(minutes=30), interval=timedelta(minutes=30))


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)


def slots(
    *,
    zone: ZoneInfo,
    first_day: date,
    last_day: date | None = None,
    windows: list[Window],
    rules: Rules = HOURLY,
    busy: Iterable[Busy] = (),
    breaks: Iterable[Interval] = (),
    earliest: datetime | None = None,
    latest: datetime | None = None,
) -> list[datetime]:
    """``available_starts`` with notice and horizon far enough away not to matter unless given."""
    last_day = last_day or first_day
    return available_starts(
        windows=windows,
        zone=zone,
        first_day=first_day,
        last_day=last_day,
        rules=rules,
        busy=busy,
        breaks=breaks,
        earliest=earliest or utc(2000, 1, 1, 0),
        latest=latest or utc(2100, 1, 1, 0),
    )


def booking(start: datetime, end: datetime, *, before: int = 0, after: int = 0) -> Busy:
    return Busy(start=start, end=end, blocked_from=start - minutes(before), blocked_until=end + minutes(after))


# -- ordinary days --------------------------------------------------------------------------------------


def test_a_winter_day_in_london_offers_every_hour_of_the_window_at_the_same_time_in_utc():
    window = Window(time(9), time(12), day_of_week=MONDAY)

    found = slots(zone=LONDON, first_day=date(2026, 1, 5), windows=[window])

    assert found == [utc(2026, 1, 5, 9), utc(2026, 1, 5, 10), utc(2026, 1, 5, 11)]


def test_a_summer_day_in_london_offers_the_same_wall_clock_hours_one_hour_earlier_in_utc():
    window = Window(time(9), time(12), day_of_week=MONDAY)

    found = slots(zone=LONDON, first_day=date(2026, 7, 6), windows=[window])

    assert found == [utc(2026, 7, 6, 8), utc(2026, 7, 6, 9), utc(2026, 7, 6, 10)]


def test_a_session_may_start_every_interval_even_when_it_lasts_longer():
    window = Window(time(9), time(12), day_of_week=MONDAY)
    hour_every_half_hour = Rules(duration=minutes(60), interval=minutes(30))

    found = slots(zone=LONDON, first_day=date(2026, 1, 5), windows=[window], rules=hour_every_half_hour)

    # 11:30 is a step, but a one-hour session from it would run past the window's end.
    assert found == [
        utc(2026, 1, 5, 9),
        utc(2026, 1, 5, 9, 30),
        utc(2026, 1, 5, 10),
        utc(2026, 1, 5, 10, 30),
        utc(2026, 1, 5, 11),
    ]


# -- clocks going forward -------------------------------------------------------------------------------


def test_london_spring_forward_skips_the_missing_hour_and_keeps_the_window_in_real_time():
    # 2026-03-29: 01:00 GMT becomes 02:00 BST, so the window 00:00-03:00 lasts two real hours.
    window = Window(time(0), time(3), day_of_week=SUNDAY)

    half_hours = slots(zone=LONDON, first_day=date(2026, 3, 29), windows=[window], rules=HALF_HOURLY)
    hours = slots(zone=LONDON, first_day=date(2026, 3, 29), windows=[window], rules=HOURLY)

    # 00:00 and 00:30 GMT, then 02:00 and 02:30 BST; 01:00 and 01:30 never show on a London clock that day.
    assert half_hours == [utc(2026, 3, 29, 0), utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30)]
    assert hours == [utc(2026, 3, 29, 0), utc(2026, 3, 29, 1)]


def test_new_york_spring_forward_skips_two_oclock():
    # 2026-03-08: 02:00 EST becomes 03:00 EDT.
    window = Window(time(1), time(4), day_of_week=SUNDAY)

    found = slots(zone=NEW_YORK, first_day=date(2026, 3, 8), windows=[window])

    # 01:00 EST and 03:00 EDT; 02:00 does not exist.
    assert found == [utc(2026, 3, 8, 6), utc(2026, 3, 8, 7)]


def test_a_window_starting_in_the_skipped_hour_begins_when_the_clocks_resume_and_keeps_its_steps():
    window = Window(time(1, 30), time(4), day_of_week=SUNDAY)

    bounds = window_bounds(window, date(2026, 3, 29), LONDON)
    found = slots(zone=LONDON, first_day=date(2026, 3, 29), windows=[window])

    assert bounds == Interval(utc(2026, 3, 29, 1), utc(2026, 3, 29, 3))
    # Steps stay on the half hour: 01:30 is skipped, 02:30 BST fits, 03:30 BST would end after 04:00 BST.
    assert found == [utc(2026, 3, 29, 1, 30)]


def test_a_window_ending_in_the_skipped_hour_ends_when_the_clocks_resume():
    window = Window(time(0), time(1, 30), day_of_week=SUNDAY)
    hour_every_half_hour = Rules(duration=minutes(60), interval=minutes(30))

    bounds = window_bounds(window, date(2026, 3, 29), LONDON)
    found = slots(zone=LONDON, first_day=date(2026, 3, 29), windows=[window], rules=hour_every_half_hour)

    # 01:30 doesn't exist, so the window runs until 02:00 BST (01:00 UTC): one real hour.
    assert bounds == Interval(utc(2026, 3, 29, 0), utc(2026, 3, 29, 1))
    assert found == [utc(2026, 3, 29, 0)]


def test_lord_howe_skips_only_half_an_hour_when_its_clocks_go_forward():
    # 2026-10-04: 02:00 (+10:30) becomes 02:30 (+11:00).
    window = Window(time(1), time(4), day_of_week=SUNDAY)

    found = slots(zone=LORD_HOWE, first_day=date(2026, 10, 4), windows=[window], rules=HALF_HOURLY)

    assert found == [
        utc(2026, 10, 3, 14, 30),  # 01:00 +10:30
        utc(2026, 10, 3, 15),  # 01:30 +10:30
        utc(2026, 10, 3, 15, 30),  # 02:30 +11:00
        utc(2026, 10, 3, 16),
        utc(2026, 10, 3, 16, 30),
    ]


def test_sao_paulo_skipped_midnight_so_a_window_from_midnight_starts_at_one():
    # 2018-11-04: clocks went from 00:00 (-03) straight to 01:00 (-02).
    window = Window(time(0), time(2), on_date=date(2018, 11, 4))

    found = slots(zone=SAO_PAULO, first_day=date(2018, 11, 4), windows=[window])

    assert found == [utc(2018, 11, 4, 3)]


def test_apia_has_no_slots_on_the_day_it_skipped_and_the_days_around_it_are_24_hours_apart():
    # Samoa crossed the date line: Thursday 2011-12-29 (-10:00) was followed by Saturday 2011-12-31 (+14:00).
    windows = [Window(time(9), time(10), day_of_week=day) for day in (THURSDAY, FRIDAY, SATURDAY)]

    found = slots(zone=APIA, first_day=date(2011, 12, 29), last_day=date(2011, 12, 31), windows=windows)

    assert found == [utc(2011, 12, 29, 19), utc(2011, 12, 30, 19)]


# -- clocks going back ----------------------------------------------------------------------------------


def test_london_fall_back_offers_the_repeated_hour_once_at_its_first_occurrence():
    # 2026-10-25: 02:00 BST becomes 01:00 GMT, so 01:00-02:00 happens twice and the window lasts four real hours.
    window = Window(time(0), time(3), day_of_week=SUNDAY)

    hours = slots(zone=LONDON, first_day=date(2026, 10, 25), windows=[window], rules=HOURLY)
    half_hours = slots(zone=LONDON, first_day=date(2026, 10, 25), windows=[window], rules=HALF_HOURLY)

    # 00:00 BST, 01:00 BST, then 02:00 GMT; the second 01:00 (01:00 UTC) is not offered again.
    assert hours == [utc(2026, 10, 24, 23), utc(2026, 10, 25, 0), utc(2026, 10, 25, 2)]
    assert half_hours == [
        utc(2026, 10, 24, 23),
        utc(2026, 10, 24, 23, 30),
        utc(2026, 10, 25, 0),
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 25, 2),
        utc(2026, 10, 25, 2, 30),
    ]


def test_a_window_ending_in_the_repeated_hour_lasts_until_that_time_comes_round_the_second_time():
    window = Window(time(0), time(1, 30), day_of_week=SUNDAY)

    bounds = window_bounds(window, date(2026, 10, 25), LONDON)
    found = slots(zone=LONDON, first_day=date(2026, 10, 25), windows=[window])

    # 00:00 BST to 01:30 GMT: two and a half real hours, so the 01:00 BST session (ending 01:00 GMT) fits.
    assert bounds == Interval(utc(2026, 10, 24, 23), utc(2026, 10, 25, 1, 30))
    assert found == [utc(2026, 10, 24, 23), utc(2026, 10, 25, 0)]


def test_sao_paulo_repeated_the_last_hour_of_a_saturday():
    # 2010-02-21 00:00 (-02) became 2010-02-20 23:00 (-03): the day starts and ends at -02, yet changes.
    window = Window(time(22), time(23, 30), on_date=date(2010, 2, 20))

    found = slots(zone=SAO_PAULO, first_day=date(2010, 2, 20), windows=[window])

    # 22:00 and the first 23:00 (-02); the second 23:30 (-03) is 02:30 UTC, so 23:00 (-02) to 02:00 UTC fits.
    assert found == [utc(2010, 2, 21, 0), utc(2010, 2, 21, 1)]


def test_new_york_fall_back_offers_one_oclock_once():
    # 2026-11-01: 02:00 EDT becomes 01:00 EST.
    window = Window(time(0), time(3), day_of_week=SUNDAY)

    found = slots(zone=NEW_YORK, first_day=date(2026, 11, 1), windows=[window])

    # 00:00 EDT, 01:00 EDT, 02:00 EST (ending at 03:00 EST, the window's end).
    assert found == [utc(2026, 11, 1, 4), utc(2026, 11, 1, 5), utc(2026, 11, 1, 7)]


def test_lord_howe_repeats_only_half_an_hour_when_its_clocks_go_back():
    # 2026-04-05: 02:00 (+11:00) becomes 01:30 (+10:30).
    window = Window(time(1), time(3), day_of_week=SUNDAY)

    found = slots(zone=LORD_HOWE, first_day=date(2026, 4, 5), windows=[window], rules=HALF_HOURLY)

    # 01:00 and 01:30 at +11:00, then 02:00 and 02:30 at +10:30; the second 01:30 (15:00 UTC) is not offered.
    assert found == [utc(2026, 4, 4, 14), utc(2026, 4, 4, 14, 30), utc(2026, 4, 4, 15, 30), utc(2026, 4, 4, 16)]


def test_a_booking_in_the_repeated_hour_is_kept_clear_in_real_time():
    window = Window(time(0), time(4), day_of_week=SUNDAY)
    hour_then_a_quarter = Rules(duration=minutes(60), interval=minutes(60), buffer_after=minutes(15))
    # Booked at the second 01:00, 01:00 GMT.
    in_repeated_hour = booking(utc(2026, 10, 25, 1), utc(2026, 10, 25, 2))

    found = slots(
        zone=LONDON, first_day=date(2026, 10, 25), windows=[window], rules=hour_then_a_quarter, busy=[in_repeated_hour]
    )

    # 01:00 BST (00:00 UTC) ends when the booking starts, but its 15-minute buffer would run into it.
    assert found == [utc(2026, 10, 24, 23), utc(2026, 10, 25, 2), utc(2026, 10, 25, 3)]


# -- a trainer in another zone than the studio ----------------------------------------------------------


def test_a_trainer_in_sydney_gets_slots_on_sydney_dates_whatever_the_studios_zone():
    # The studio is in London, but the algorithm is only ever given the trainer's zone.
    window = Window(time(9), time(12), day_of_week=MONDAY)

    found = slots(zone=SYDNEY, first_day=date(2026, 3, 30), last_day=date(2026, 4, 6), windows=[window])

    assert found == [
        utc(2026, 3, 29, 22),  # Monday 09:00 AEDT (+11) is Sunday 23:00 BST in London
        utc(2026, 3, 29, 23),
        utc(2026, 3, 30, 0),
        utc(2026, 4, 5, 23),  # Sydney's clocks went back on 5 April: 09:00 AEST (+10)
        utc(2026, 4, 6, 0),
        utc(2026, 4, 6, 1),
    ]
    assert found[0].astimezone(LONDON).replace(tzinfo=None) == datetime(2026, 3, 29, 23)


def test_a_sydney_monday_is_not_offered_for_the_sunday_it_falls_on_in_utc():
    window = Window(time(9), time(12), day_of_week=MONDAY)

    sunday = slots(zone=SYDNEY, first_day=date(2026, 3, 29), windows=[window])
    monday_in_london = slots(zone=LONDON, first_day=date(2026, 3, 30), windows=[window])

    assert sunday == []
    # The same window read on a London clock is a different set of instants.
    assert monday_in_london == [utc(2026, 3, 30, 8), utc(2026, 3, 30, 9), utc(2026, 3, 30, 10)]


# -- bookings and buffers -------------------------------------------------------------------------------


def test_a_slot_may_end_exactly_where_a_bookings_buffer_begins_and_start_exactly_where_it_ends():
    window = Window(time(9), time(15), day_of_week=MONDAY)
    hour_every_quarter = Rules(duration=minutes(60), interval=minutes(15))
    # Booked 12:00-13:00 with half an hour kept free either side.
    taken = booking(utc(2026, 1, 5, 12), utc(2026, 1, 5, 13), before=30, after=30)

    found = slots(zone=LONDON, first_day=date(2026, 1, 5), windows=[window], rules=hour_every_quarter, busy=[taken])

    assert found == [
        utc(2026, 1, 5, 9),
        utc(2026, 1, 5, 9, 15),
        utc(2026, 1, 5, 9, 30),
        utc(2026, 1, 5, 9, 45),
        utc(2026, 1, 5, 10),
        utc(2026, 1, 5, 10, 15),
        utc(2026, 1, 5, 10, 30),  # ends 11:30, as the booking's buffer begins
        utc(2026, 1, 5, 13, 30),  # starts as the booking's buffer ends
        utc(2026, 1, 5, 13, 45),
        utc(2026, 1, 5, 14),
    ]


def test_a_slots_own_buffers_may_touch_a_booking_but_not_reach_into_it():
    window = Window(time(10), time(14, 30), day_of_week=MONDAY)
    buffered = Rules(duration=minutes(60), interval=minutes(15), buffer_before=minutes(15), buffer_after=minutes(30))
    taken = booking(utc(2026, 1, 5, 12), utc(2026, 1, 5, 13))

    found = slots(zone=LONDON, first_day=date(2026, 1, 5), windows=[window], rules=buffered, busy=[taken])

    # 10:30 ends at 11:30 and its 30 minutes after end at 12:00; 13:15 needs 15 minutes from 13:00.
    assert found == [
        utc(2026, 1, 5, 10),
        utc(2026, 1, 5, 10, 15),
        utc(2026, 1, 5, 10, 30),
        utc(2026, 1, 5, 13, 15),
        utc(2026, 1, 5, 13, 30),
    ]


def test_buffers_may_share_time_with_each_other_but_never_with_a_session():
    window = Window(time(9), time(12), day_of_week=MONDAY)
    buffered = Rules(duration=minutes(60), interval=minutes(15), buffer_after=minutes(30))
    # Booked 12:00-13:00 with its own 30 minutes before: 11:30-12:00 is buffer for both.
    taken = booking(utc(2026, 1, 5, 12), utc(2026, 1, 5, 13), before=30)

    found = slots(zone=LONDON, first_day=date(2026, 1, 5), windows=[window], rules=buffered, busy=[taken])

    # 10:30's own buffer is the booking's buffer (11:30-12:00); stacking them would have stopped at 10:00.
    # 10:45 would run into the booking's buffer.
    assert found == [
        utc(2026, 1, 5, 9),
        utc(2026, 1, 5, 9, 15),
        utc(2026, 1, 5, 9, 30),
        utc(2026, 1, 5, 9, 45),
        utc(2026, 1, 5, 10),
        utc(2026, 1, 5, 10, 15),
        utc(2026, 1, 5, 10, 30),
    ]


# -- breaks, notice and horizon -------------------------------------------------------------------------


def test_a_break_removes_the_slots_that_overlap_it_but_not_those_that_touch_it():
    window = Window(time(9), time(17), day_of_week=MONDAY)
    lunch_and_errand = Interval(utc(2026, 1, 5, 12), utc(2026, 1, 5, 13, 30))

    found = slots(zone=LONDON, first_day=date(2026, 1, 5), windows=[window], breaks=[lunch_and_errand])

    assert found == [
        utc(2026, 1, 5, 9),
        utc(2026, 1, 5, 10),
        utc(2026, 1, 5, 11),  # ends as the break starts
        utc(2026, 1, 5, 14),  # 13:00 would overlap the break's last half hour
        utc(2026, 1, 5, 15),
        utc(2026, 1, 5, 16),
    ]


def test_slots_before_the_earliest_start_or_after_the_latest_are_cut_off_and_both_ends_are_inclusive():
    windows = [Window(time(9), time(12), day_of_week=day) for day in (MONDAY, TUESDAY)]

    found = slots(
        zone=LONDON,
        first_day=date(2026, 1, 5),
        last_day=date(2026, 1, 6),
        windows=windows,
        earliest=utc(2026, 1, 5, 10),
        latest=utc(2026, 1, 6, 10),
    )

    assert found == [utc(2026, 1, 5, 10), utc(2026, 1, 5, 11), utc(2026, 1, 6, 9), utc(2026, 1, 6, 10)]


# -- one-off windows ------------------------------------------------------------------------------------


def test_a_one_off_window_adds_to_the_weekly_ones_on_its_date_only():
    weekly = Window(time(9), time(11), day_of_week=MONDAY)
    extra_monday_afternoon = Window(time(14), time(16), on_date=date(2026, 1, 5))
    extra_wednesday = Window(time(10), time(11), on_date=date(2026, 1, 7))

    found = slots(
        zone=LONDON,
        first_day=date(2026, 1, 5),
        last_day=date(2026, 1, 12),
        windows=[weekly, extra_monday_afternoon, extra_wednesday],
    )

    assert found == [
        utc(2026, 1, 5, 9),
        utc(2026, 1, 5, 10),
        utc(2026, 1, 5, 14),
        utc(2026, 1, 5, 15),
        utc(2026, 1, 7, 10),
        utc(2026, 1, 12, 9),
        utc(2026, 1, 12, 10),
    ]
