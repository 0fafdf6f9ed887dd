"""Policy terms: renewing a policy moves it to its next term in place; the term it leaves is kept as history."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

__all__ = ["NextTerm", "PolicyTerm", "next_term"]


@dataclass
class PolicyTerm:
    """A term the policy had before its current one; `outcome` is renewed or lapsed."""

    policy_id: int
    start_date: date
    end_date: date
    renewal_date: date
    premium_amount: Decimal
    outcome: str
    case_id: int | None = None
    payment_id: int | None = None
    id: int | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NextTerm:
    start_date: date
    end_date: date
    renewal_date: date


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _whole_months(start: date, end: date) -> int | None:
    """How many whole calendar months `start..end` (inclusive) spans, or None when it is not whole months."""
    after = end + timedelta(days=1)
    months = (after.year - start.year) * 12 + after.month - start.month
    if months > 0 and _add_months(start, months) == after:
        return months
    return None


def next_term(start_date: date, end_date: date, renewal_date: date) -> NextTerm:
    """The term after `start_date..end_date`: it starts the day after the end and lasts as long.

    A term of whole calendar months (a year, six months) is followed by as many months (2025-03-01..2026-02-28
    becomes 2026-03-01..2027-02-28, leap days included); any other term by the same number of days. The renewal
    date keeps its distance from the end date.
    """
    start = end_date + timedelta(days=1)
    months = _whole_months(start_date, end_date)
    end = _add_months(start, months) - timedelta(days=1) if months is not None else start + (end_date - start_date)
    return NextTerm(start_date=start, end_date=end, renewal_date=end - (end_date - renewal_date))
