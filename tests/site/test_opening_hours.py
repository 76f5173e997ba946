"""Opening hours derived from trainers' weekly windows, in the studio's zone (pure functions)."""

from datetime import date, time

from tenant_apps.site.hours import WeeklyWindow, opening_hours

WINTER_WEEK = date(2026, 1, 5)  # a Monday; London on GMT, New York on EST
SPLIT_WEEK = date(2026, 3, 9)  # New York has moved to EDT (8 March), London not yet (29 March)


def _shown(days) -> dict[str, list[str]]:
    return {day.name: [str(opening) for opening in day.openings] for day in days if day.openings}


def test_windows_of_one_day_merge_where_they_touch_or_overlap_and_stay_apart_where_they_dont():
    windows = [
        WeeklyWindow(0, time(7), time(12), "Europe/London"),
        WeeklyWindow(0, time(12), time(13), "Europe/London"),
        WeeklyWindow(0, time(15), time(18), "Europe/London"),
        WeeklyWindow(0, time(16), time(17), "Europe/London"),
    ]

    assert _shown(opening_hours(windows, studio_zone="Europe/London", week_start=WINTER_WEEK)) == {
        "Monday": ["07:00\u201313:00", "15:00\u201318:00"]
    }


def test_another_zones_window_is_converted_with_that_weeks_offsets():
    windows = [WeeklyWindow(1, time(7), time(11), "America/New_York")]

    winter = _shown(opening_hours(windows, studio_zone="Europe/London", week_start=WINTER_WEEK))
    split = _shown(opening_hours(windows, studio_zone="Europe/London", week_start=SPLIT_WEEK))

    assert winter == {"Tuesday": ["12:00\u201316:00"]}
    assert split == {"Tuesday": ["11:00\u201315:00"]}


def test_a_window_crossing_the_studios_midnight_is_split_over_two_days_and_sunday_spills_into_monday():
    windows = [
        WeeklyWindow(2, time(17), time(22), "America/New_York"),  # 22:00-03:00 in London
        WeeklyWindow(6, time(21), time(23), "America/New_York"),  # Monday 02:00-04:00 in London
    ]

    assert _shown(opening_hours(windows, studio_zone="Europe/London", week_start=WINTER_WEEK)) == {
        "Monday": ["02:00\u201304:00"],
        "Wednesday": ["22:00\u201324:00"],
        "Thursday": ["00:00\u201303:00"],
    }


def test_every_day_is_listed_monday_first_closed_days_without_openings():
    days = opening_hours([], studio_zone="Europe/London", week_start=date(2026, 1, 8))

    assert days[0].name == "Monday" and len(days) == 7
    assert not any(day.is_open for day in days)
