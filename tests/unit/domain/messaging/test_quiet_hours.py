"""Quiet hours: sending only inside the local window, next opening across DST changes and midnight."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.messaging.quiet_hours import QuietHours

DEFAULT = QuietHours()
NEW_YORK = "America/New_York"
KOLKATA = "Asia/Kolkata"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_defaults_are_nine_to_nine_in_india() -> None:
    assert (DEFAULT.start, DEFAULT.end, DEFAULT.default_timezone) == (time(9), time(21), KOLKATA)


def test_inside_the_window_now_is_returned_unchanged() -> None:
    now = utc(2025, 1, 1, 6, 0)  # 11:30 in Kolkata
    assert DEFAULT.next_allowed(now, KOLKATA) is now
    assert DEFAULT.is_open(now, KOLKATA)


def test_start_is_inclusive_and_end_exclusive() -> None:
    assert DEFAULT.next_allowed(utc(2025, 1, 1, 3, 30), KOLKATA) == utc(2025, 1, 1, 3, 30)  # 09:00 IST
    assert DEFAULT.next_allowed(utc(2025, 1, 1, 15, 30), KOLKATA) == utc(2025, 1, 2, 3, 30)  # 21:00 IST
    assert DEFAULT.next_allowed(utc(2025, 1, 1, 15, 29, 59), KOLKATA) == utc(2025, 1, 1, 15, 29, 59)


def test_before_the_window_it_opens_the_same_local_day() -> None:
    assert DEFAULT.next_allowed(utc(2025, 1, 1, 0, 0), KOLKATA) == utc(2025, 1, 1, 3, 30)  # 05:30 -> 09:00 IST


def test_after_the_window_it_opens_the_next_local_day() -> None:
    assert DEFAULT.next_allowed(utc(2025, 1, 1, 18, 0), KOLKATA) == utc(2025, 1, 2, 3, 30)  # 23:30 -> 09:00 IST
    assert DEFAULT.next_allowed(utc(2025, 1, 1, 18, 30), KOLKATA) == utc(2025, 1, 2, 3, 30)  # 00:00 next day


def test_the_result_is_utc_even_when_now_is_given_in_another_offset() -> None:
    now = datetime(2025, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    result = DEFAULT.next_allowed(now, KOLKATA)
    assert result == utc(2025, 1, 2, 3, 30) and result.tzinfo is UTC


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        DEFAULT.next_allowed(datetime(2025, 1, 1, 12, 0), KOLKATA)


# --- DST in New York -------------------------------------------------------------------------------------------


def test_the_night_before_spring_forward_opens_at_nine_daylight_time() -> None:
    # Sat 2024-03-09 22:00 EST; clocks jump 02:00 -> 03:00 on Sunday; 09:00 EDT is 13:00 UTC, not 14:00.
    assert DEFAULT.next_allowed(utc(2024, 3, 10, 3, 0), NEW_YORK) == utc(2024, 3, 10, 13, 0)


def test_the_night_before_fall_back_opens_at_nine_standard_time() -> None:
    # Sat 2024-11-02 22:00 EDT; clocks go back 02:00 -> 01:00 on Sunday; 09:00 EST is 14:00 UTC, not 13:00.
    assert DEFAULT.next_allowed(utc(2024, 11, 3, 2, 0), NEW_YORK) == utc(2024, 11, 3, 14, 0)


def test_a_start_swallowed_by_the_gap_opens_when_the_clock_jumps() -> None:
    quiet = QuietHours(start=time(2, 30), end=time(21, 0))
    # 01:00 EST; 02:30 never happens that night: the first wall time past it is 03:00 EDT = 07:00 UTC.
    assert quiet.next_allowed(utc(2024, 3, 10, 6, 0), NEW_YORK) == utc(2024, 3, 10, 7, 0)


def test_a_repeated_start_opens_at_its_next_occurrence() -> None:
    quiet = QuietHours(start=time(1, 30), end=time(21, 0))
    assert quiet.next_allowed(utc(2024, 11, 3, 4, 45), NEW_YORK) == utc(2024, 11, 3, 5, 30)  # 00:45 -> 01:30 EDT
    assert quiet.next_allowed(utc(2024, 11, 3, 6, 15), NEW_YORK) == utc(2024, 11, 3, 6, 30)  # 01:15 EST -> 01:30 EST


def test_falling_back_into_the_window_opens_it_at_the_change() -> None:
    quiet = QuietHours(start=time(0, 30), end=time(1, 30))
    # 01:45 EDT is past the end; at 06:00 UTC the clock reads 01:00 EST again, inside the window.
    assert quiet.next_allowed(utc(2024, 11, 3, 5, 45), NEW_YORK) == utc(2024, 11, 3, 6, 0)


def test_a_skipped_calendar_day_is_handled() -> None:
    # Samoa skipped 2011-12-30 (UTC-10 to UTC+14); 22:00 on the 29th opens at 09:00 on the 31st.
    assert DEFAULT.next_allowed(utc(2011, 12, 30, 8, 0), "Pacific/Apia") == utc(2011, 12, 30, 19, 0)


# --- windows across midnight -----------------------------------------------------------------------------------

NIGHT = QuietHours(start=time(22, 0), end=time(6, 0))


@pytest.mark.parametrize("local_hour", [22, 23, 0, 3, 5])
def test_a_window_across_midnight_is_open_on_both_sides(local_hour: int) -> None:
    now = datetime(2025, 1, 1, local_hour, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))).astimezone(UTC)
    assert NIGHT.next_allowed(now, KOLKATA) is now


@pytest.mark.parametrize("local_hour", [6, 12, 21])
def test_a_window_across_midnight_opens_at_its_evening_start(local_hour: int) -> None:
    now = utc(2025, 1, 1, local_hour, 0) - timedelta(hours=5, minutes=30)
    assert NIGHT.next_allowed(now, KOLKATA) == utc(2025, 1, 1, 16, 30)  # 22:00 IST


def test_allows_reads_wall_times() -> None:
    assert [DEFAULT.allows(time(h)) for h in (8, 9, 20, 21)] == [False, True, True, False]
    assert [NIGHT.allows(time(h)) for h in (21, 22, 0, 5, 6)] == [False, True, True, True, False]


# --- time zones ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../../etc/passwd", "/etc/localtime", "asia/kolkata "])
def test_unknown_zones_fall_back_to_the_default(name: str) -> None:
    assert DEFAULT.zone(name).key == KOLKATA
    assert DEFAULT.next_allowed(utc(2025, 1, 1, 0, 0), name) == utc(2025, 1, 1, 3, 30)


def test_the_default_zone_is_configurable() -> None:
    london = QuietHours(default_timezone="Europe/London")
    assert london.next_allowed(utc(2025, 1, 1, 0, 0), "Nowhere") == utc(2025, 1, 1, 9, 0)


@pytest.mark.parametrize("kwargs", [
    {"default_timezone": "Nowhere/City"},
    {"start": time(9), "end": time(9)},
    {"start": time(9, tzinfo=UTC)},
])
def test_invalid_settings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        QuietHours(**kwargs)  # type: ignore[arg-type]


# --- property: the answer is the first open minute -------------------------------------------------------------

ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata",
         "Pacific/Apia", "America/St_Johns"]
NEAR_CHANGES = [utc(2024, 3, 10, 7), utc(2024, 11, 3, 6), utc(2024, 3, 31, 1), utc(2024, 10, 27, 1),
                utc(2024, 4, 6, 15), utc(2024, 4, 7, 3), utc(2024, 9, 8, 4), utc(2011, 12, 30, 10)]
WALL_TIMES = st.sampled_from([time(0), time(0, 30), time(1), time(1, 30), time(2), time(2, 30), time(3),
                              time(9), time(21), time(23), time(23, 30)])


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(ZONES), st.sampled_from(NEAR_CHANGES), st.integers(-48 * 60, 48 * 60), WALL_TIMES, WALL_TIMES)
def test_next_allowed_is_the_first_open_minute(zone: str, near: datetime, minutes: int, start: time, end: time) -> None:
    assume(start != end)
    quiet = QuietHours(start=start, end=end)
    now = near + timedelta(minutes=minutes)
    result = quiet.next_allowed(now, zone)
    assert quiet.is_open(result, zone)
    first_open = next(
        moment for moment in (now + timedelta(minutes=m) for m in range(4 * 24 * 60)) if quiet.is_open(moment, zone)
    )
    assert result == first_open
