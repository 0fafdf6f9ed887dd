"""The dashboard's queries, the raw tallies both read models compute, and the views the API answers with.

Definitions (the same in SQL and in memory, see tests/contract/test_analytics_read_models.py):
- A case is "in range" when its due date (the term end date it renews) falls in [from, to], both inclusive.
- open: new, contacted, in_progress, payment_pending; in progress: contacted, in_progress, payment_pending;
  closed: renewed, lapsed, lost, cancelled.
- Renewal rate = renewed / (renewed + lapsed + lost) over the closed cases (cancelled cases left out); None when
  no case closed that way, since a rate of nothing is not 0 %.
- Premium due = the renewal amounts of the cases that were not cancelled; premium collected = what payments in a
  collected status (paid, partially_paid, refunded, partially_refunded) brought in: paid amount less refunds.
- Channel = the channel of the link whose payment collected last (latest paid_at); "none" when nothing collected.
- Time series: new cases by creation day, renewed/failed by closing day, collected by payment day, all in the
  business time zone; success rate = renewed / (renewed + lapsed + lost) closed in that bucket.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

import msgspec

__all__ = [
    "CLOSED_STATUSES", "COLLECTED_PAYMENT_STATUSES", "FAILED_STATUSES", "IN_PROGRESS_STATUSES", "OPEN_STATUSES",
    "AgentFigures", "AgentRow", "AgentsQuery", "AgentsView", "BreakdownRow", "Bucket", "DashboardFigures",
    "DashboardQuery", "DashboardView", "GroupTally", "SeriesFigures", "SeriesPoint", "Summary", "Tally",
    "month_bounds", "week_bounds",
]

Bucket = Literal["day", "week"]
Dimension = Literal["branch", "agent", "channel", "policy_type"]

IN_PROGRESS_STATUSES = ("contacted", "in_progress", "payment_pending")
OPEN_STATUSES = ("new", *IN_PROGRESS_STATUSES)
FAILED_STATUSES = ("lapsed", "lost")
CLOSED_STATUSES = ("renewed", *FAILED_STATUSES, "cancelled")
COLLECTED_PAYMENT_STATUSES = ("paid", "partially_paid", "refunded", "partially_refunded")
NO_CHANNEL = "none"


def week_bounds(today: date) -> tuple[date, date]:
    """Monday and Sunday of the week of `today`."""
    start = today - timedelta(days=today.weekday())
    return start, start + timedelta(days=6)


def month_bounds(today: date) -> tuple[date, date]:
    """The first and last day of the month of `today`."""
    start = today.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following - timedelta(days=1)


class DashboardQuery(msgspec.Struct, frozen=True, kw_only=True):
    date_from: date
    date_to: date
    branch_id: int | None = None
    policy_type: str | None = None
    agent_id: int | None = None
    bucket: Bucket = "day"


class AgentsQuery(msgspec.Struct, frozen=True, kw_only=True):
    date_from: date
    date_to: date


# --- what the read models compute -------------------------------------------------------------------------------

class Tally(msgspec.Struct, kw_only=True):
    """Counts and sums over a set of cases; rates are derived by the service."""

    cases: int = 0
    new: int = 0
    in_progress: int = 0
    renewed: int = 0
    lapsed: int = 0
    lost: int = 0
    flagged_open: int = 0  # open cases that carry a flag (amount mismatch, partial payment...)
    premium_due: Decimal = Decimal("0")
    premium_open: Decimal = Decimal("0")  # renewal amounts of the open cases
    collected: Decimal = Decimal("0")


class GroupTally(msgspec.Struct, kw_only=True):
    dimension: Dimension
    key: str  # branch/user id as text, a channel or a policy type; "" for no branch / no agent
    tally: Tally


class SeriesFigures(msgspec.Struct, kw_only=True):
    day: date  # the bucket's first day
    new_cases: int = 0
    renewed: int = 0
    failed: int = 0
    collected: Decimal = Decimal("0")


class DashboardFigures(msgspec.Struct, kw_only=True):
    total: Tally
    groups: list[GroupTally]
    series: list[SeriesFigures]
    due_this_week: int
    due_this_month: int
    labels: dict[str, dict[str, str]]  # "branch" / "agent" -> key -> label


class AgentFigures(msgspec.Struct, kw_only=True):
    user_id: int
    name: str
    branch_id: int | None
    branch: str | None
    tally: Tally
    contacted: int  # cases with a first contact
    contact_hours: float  # total hours from assignment to first contact over those


# --- what the API answers ----------------------------------------------------------------------------------------

class Summary(msgspec.Struct, kw_only=True, rename="camel"):
    total_cases: int
    in_progress: int
    renewed: int
    pending_action: int  # open cases nobody has worked yet (status new)
    errors: int  # open cases carrying a flag
    payment_collected: Decimal
    payment_pending: Decimal  # renewal amounts of the open cases
    due_this_week: int  # open cases due in the business week (Monday to Sunday) of today
    due_this_month: int  # open cases due in the calendar month of today
    pending: int
    lapsed: int
    lost: int
    renewal_rate: float | None
    premium_due: Decimal
    premium_collected: Decimal


class BreakdownRow(msgspec.Struct, kw_only=True, rename="camel"):
    key: str
    label: str
    due: int
    renewed: int
    pending: int
    lapsed: int
    renewal_rate: float | None
    premium_due: Decimal
    premium_collected: Decimal


class SeriesPoint(msgspec.Struct, kw_only=True, rename="camel"):
    date: date
    new_cases: int
    renewed: int
    collected: Decimal
    success_rate: float | None


class DashboardView(msgspec.Struct, kw_only=True, rename="camel"):
    summary: Summary
    by_branch: list[BreakdownRow]
    by_agent: list[BreakdownRow]
    by_channel: list[BreakdownRow]
    by_policy_type: list[BreakdownRow]
    time_series: list[SeriesPoint]
    date_from: date
    date_to: date
    bucket: Bucket
    generated_at: datetime
    stale_after_seconds: int


class AgentRow(msgspec.Struct, kw_only=True, rename="camel"):
    user_id: str  # public id, `user-7`
    name: str
    branch_id: str | None  # public id, `branch-2`
    branch: str | None
    cases_handled: int
    open: int
    renewed: int
    lapsed: int
    renewal_rate: float | None
    avg_hours_to_first_contact: float | None
    collected: Decimal


class AgentsView(msgspec.Struct, kw_only=True, rename="camel"):
    agents: list[AgentRow]
    date_from: date
    date_to: date
    generated_at: datetime
