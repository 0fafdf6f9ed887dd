"""The next term starts the day after the current one ends and lasts as long (whole months as months)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from domain.policies.terms import next_term


def test_a_year_of_whole_months_is_followed_by_a_year_leap_days_included() -> None:
    term = next_term(date(2025, 3, 1), date(2026, 2, 28), date(2026, 2, 28))
    assert (term.start_date, term.end_date, term.renewal_date) == (date(2026, 3, 1), date(2027, 2, 28),
                                                                   date(2027, 2, 28))
    leap = next_term(date(2027, 3, 1), date(2028, 2, 29), date(2028, 2, 29))
    assert (leap.start_date, leap.end_date) == (date(2028, 3, 1), date(2029, 2, 28))


def test_six_months_follow_six_months_and_the_renewal_date_keeps_its_distance() -> None:
    term = next_term(date(2026, 1, 1), date(2026, 6, 30), date(2026, 6, 15))
    assert (term.start_date, term.end_date, term.renewal_date) == (date(2026, 7, 1), date(2026, 12, 31),
                                                                   date(2026, 12, 16))


def test_a_term_of_odd_length_is_followed_by_as_many_days() -> None:
    term = next_term(date(2025, 12, 18), date(2026, 12, 18), date(2026, 12, 18))
    assert (term.start_date, term.end_date) == (date(2026, 12, 19), date(2027, 12, 19))


@example(date(2002, 2, 1), 392, 0)  # 13 months from February, then 13 from March: 4 days longer
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(min_value=1, max_value=800),
       st.integers(min_value=0, max_value=60))
def test_the_next_term_always_starts_the_day_after_and_never_overlaps(start: date, days: int, early: int) -> None:
    end = start + timedelta(days=days)
    term = next_term(start, end, end - timedelta(days=early))
    assert term.start_date == end + timedelta(days=1)
    assert term.end_date > term.start_date
    # whole months stay months: n months starting in another month differ by at most a February and a leap day
    assert abs((term.end_date - term.start_date) - (end - start)) <= timedelta(days=4)
    assert term.end_date - term.renewal_date == timedelta(days=early)
