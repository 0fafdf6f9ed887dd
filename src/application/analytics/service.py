"""The renewal dashboard and agent performance: figures at most `ttl` seconds old, one computation per key.

Each answer is cached per (caller's reach, filters) for `ttl` seconds. A miss runs one computation per key in this
process (concurrent callers share it) and, through the cache's lock, one across processes: the others wait for the
answer to appear, and compute it themselves only if it does not within a few seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import msgspec

from application.analytics.ports import AnalyticsReadModel, DashboardCache
from application.analytics.views import (
    NO_CHANNEL,
    AgentFigures,
    AgentRow,
    AgentsQuery,
    AgentsView,
    BreakdownRow,
    Bucket,
    DashboardFigures,
    DashboardQuery,
    DashboardView,
    GroupTally,
    SeriesFigures,
    SeriesPoint,
    Summary,
    Tally,
)
from application.shared.visibility import EVERYTHING, Visibility
from domain.shared.clock import Clock
from domain.shared.errors import FieldError, ValidationFailed
from domain.shared.ids import BranchId, UserId

__all__ = ["DEFAULT_DAYS_AROUND_TODAY", "MAX_RANGE_DAYS", "AnalyticsService", "rate", "scope_key"]

MAX_RANGE_DAYS = 731
DEFAULT_DAYS_AROUND_TODAY = 30
_WAIT_STEP = 0.05  # seconds between looks at the cache while another process computes
_WAIT_STEPS = 100
_LOCK_SECONDS = 30


def rate(renewed: int, failed: int) -> float | None:
    """renewed / (renewed + failed), 4 decimals; None when nothing closed."""
    closed = renewed + failed
    return round(renewed / closed, 4) if closed else None


def scope_key(visibility: Visibility) -> str:
    """The cache key part of a reach; a branch reach without a branch sees only its own cases."""
    if visibility.reach == "all":
        return "all"
    if visibility.reach == "branch" and visibility.branch_id is not None:
        return f"branch:{visibility.user_id}:{visibility.branch_id}"
    return f"own:{visibility.user_id}"


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _buckets(query: DashboardQuery) -> list[date]:
    step = timedelta(days=7 if query.bucket == "week" else 1)
    day = _week_start(query.date_from) if query.bucket == "week" else query.date_from
    days: list[date] = []
    while day <= query.date_to:
        days.append(day)
        day += step
    return days


def _row(key: str, label: str, t: Tally) -> BreakdownRow:
    return BreakdownRow(key=key, label=label, due=t.cases, renewed=t.renewed, pending=t.new + t.in_progress,
                        lapsed=t.lapsed, renewal_rate=rate(t.renewed, t.lapsed + t.lost), premium_due=t.premium_due,
                        premium_collected=t.collected)


def _breakdown(groups: list[GroupTally], labels: dict[str, dict[str, str]], dimension: str) -> list[BreakdownRow]:
    rows: list[BreakdownRow] = []
    for group in (g for g in groups if g.dimension == dimension):
        if dimension == "branch":
            key = BranchId(int(group.key)).public() if group.key else "none"
            label = labels.get("branch", {}).get(group.key, key) if group.key else "No branch"
        elif dimension == "agent":
            key = UserId(int(group.key)).public() if group.key else "unassigned"
            label = labels.get("agent", {}).get(group.key, key) if group.key else "Unassigned"
        else:
            key = group.key or NO_CHANNEL
            label = key
        rows.append(_row(key, label, group.tally))
    return sorted(rows, key=lambda r: (-r.due, r.key))


def _summary(figures: DashboardFigures) -> Summary:
    t = figures.total
    return Summary(
        total_cases=t.cases, in_progress=t.in_progress, renewed=t.renewed, pending_action=t.new,
        errors=t.flagged_open, payment_collected=t.collected, payment_pending=t.premium_open,
        due_this_week=figures.due_this_week, due_this_month=figures.due_this_month, pending=t.new + t.in_progress,
        lapsed=t.lapsed, lost=t.lost, renewal_rate=rate(t.renewed, t.lapsed + t.lost), premium_due=t.premium_due,
        premium_collected=t.collected)


def _series(query: DashboardQuery, found: list[SeriesFigures]) -> list[SeriesPoint]:
    by_day = {s.day: s for s in found}
    points = []
    for day in _buckets(query):
        s = by_day.get(day) or SeriesFigures(day=day)
        points.append(SeriesPoint(date=day, new_cases=s.new_cases, renewed=s.renewed, collected=s.collected,
                                  success_rate=rate(s.renewed, s.failed)))
    return points


def _agent(a: AgentFigures) -> AgentRow:
    t = a.tally
    return AgentRow(
        user_id=UserId(a.user_id).public(), name=a.name,
        branch_id=BranchId(a.branch_id).public() if a.branch_id is not None else None, branch=a.branch,
        cases_handled=t.cases, open=t.new + t.in_progress, renewed=t.renewed, lapsed=t.lapsed,
        renewal_rate=rate(t.renewed, t.lapsed + t.lost),
        avg_hours_to_first_contact=round(a.contact_hours / a.contacted, 2) if a.contacted else None,
        collected=t.collected)


class AnalyticsService:
    def __init__(self, read_model: AnalyticsReadModel, cache: DashboardCache, clock: Clock, *, ttl: int = 60) -> None:
        self._reads = read_model
        self._cache = cache
        self._clock = clock
        self._ttl = ttl
        self._flights: dict[str, asyncio.Future[bytes]] = {}

    def _range(self, date_from: date | None, date_to: date | None) -> tuple[date, date]:
        today = self._clock.today()
        start = date_from or (today - timedelta(days=DEFAULT_DAYS_AROUND_TODAY))
        end = date_to or (today + timedelta(days=DEFAULT_DAYS_AROUND_TODAY))
        if start > end:
            raise ValidationFailed([FieldError("to", "must be on or after `from`")])
        if (end - start).days >= MAX_RANGE_DAYS:
            raise ValidationFailed([FieldError("to", f"the range may span at most {MAX_RANGE_DAYS} days")])
        return start, end

    def dashboard_query(self, *, date_from: date | None = None, date_to: date | None = None,
                        branch_id: int | None = None, policy_type: str | None = None, agent_id: int | None = None,
                        bucket: str = "day") -> DashboardQuery:
        """The validated query: `from`/`to` default to 30 days either side of today; `bucket` is day or week."""
        if bucket not in ("day", "week"):
            raise ValidationFailed([FieldError("bucket", "must be `day` or `week`")])
        start, end = self._range(date_from, date_to)
        kind: Bucket = "week" if bucket == "week" else "day"
        return DashboardQuery(date_from=start, date_to=end, branch_id=branch_id,
                              policy_type=(policy_type or "").strip() or None, agent_id=agent_id, bucket=kind)

    async def dashboard(self, query: DashboardQuery, visibility: Visibility) -> DashboardView:
        key = f"analytics:dashboard:v1:{scope_key(visibility)}:{msgspec.json.encode(query).decode()}"
        raw = await self._cached(key, lambda: self._compute_dashboard(query, visibility))
        return msgspec.json.decode(raw, type=DashboardView)

    async def refresh_dashboard(self, query: DashboardQuery, visibility: Visibility = EVERYTHING) -> DashboardView:
        """Compute and cache now whatever the cache holds (the pre-warming cron)."""
        key = f"analytics:dashboard:v1:{scope_key(visibility)}:{msgspec.json.encode(query).decode()}"
        raw = await self._compute_dashboard(query, visibility)
        await self._cache.put(key, raw, self._ttl)
        return msgspec.json.decode(raw, type=DashboardView)

    async def agents(self, visibility: Visibility, *, date_from: date | None = None,
                     date_to: date | None = None) -> AgentsView:
        start, end = self._range(date_from, date_to)
        query = AgentsQuery(date_from=start, date_to=end)
        key = f"analytics:agents:v1:{scope_key(visibility)}:{start}:{end}"
        raw = await self._cached(key, lambda: self._compute_agents(query, visibility))
        return msgspec.json.decode(raw, type=AgentsView)

    async def _compute_dashboard(self, query: DashboardQuery, visibility: Visibility) -> bytes:
        figures = await self._reads.dashboard(query, visibility, self._clock.today())
        view = DashboardView(
            summary=_summary(figures),
            by_branch=_breakdown(figures.groups, figures.labels, "branch"),
            by_agent=_breakdown(figures.groups, figures.labels, "agent"),
            by_channel=_breakdown(figures.groups, figures.labels, "channel"),
            by_policy_type=_breakdown(figures.groups, figures.labels, "policy_type"),
            time_series=_series(query, figures.series), date_from=query.date_from, date_to=query.date_to,
            bucket=query.bucket, generated_at=self._clock.now(), stale_after_seconds=self._ttl)
        return msgspec.json.encode(view)

    async def _compute_agents(self, query: AgentsQuery, visibility: Visibility) -> bytes:
        found = await self._reads.agents(query, visibility)
        rows = sorted((_agent(a) for a in found), key=lambda r: (-r.cases_handled, r.name, r.user_id))
        return msgspec.json.encode(AgentsView(agents=rows, date_from=query.date_from, date_to=query.date_to,
                                              generated_at=self._clock.now()))

    async def _cached(self, key: str, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        hit = await self._cache.get(key)
        if hit is not None:
            return hit
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._fill(key, compute))
            self._flights[key] = flight
            flight.add_done_callback(lambda _: self._flights.pop(key, None))
        return await asyncio.shield(flight)

    async def _fill(self, key: str, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        if not await self._cache.try_lock(key, _LOCK_SECONDS):
            for _ in range(_WAIT_STEPS):  # another process is computing it: wait for its answer
                await asyncio.sleep(_WAIT_STEP)
                hit = await self._cache.get(key)
                if hit is not None:
                    return hit
            value = await compute()
            await self._cache.put(key, value, self._ttl)
            return value
        try:
            value = await compute()
            await self._cache.put(key, value, self._ttl)
            return value
        finally:
            await self._cache.unlock(key)
