"""The dashboard and agent figures in a few set-based statements, run on the asyncpg read pool.

Three statements run at once on separate connections: the tallies of the cases due in the range grouped four ways
in one pass (GROUPING SETS, FILTER clauses), the time series (created, closed and paid events per bucket, UNION ALL),
and the open cases due this week and month. Statements are built once per shape (reach, filters present, bucket);
values are bound parameters. Branch and agent labels come from two look-ups by id.
"""

from __future__ import annotations

import asyncio
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Integer,
    Select,
    and_,
    bindparam,
    cast,
    func,
    literal,
    select,
    union_all,
)

from adapters.asyncpg.read_pool import AsyncpgReadPool
from adapters.sqlalchemy.listing import CompiledQuery, any_of
from adapters.sqlalchemy.read_models.analytics_agents import agent_figures, agents_statement
from adapters.sqlalchemy.read_models.analytics_common import (
    FILTERS,
    Scope,
    collections,
    day_bounds,
    one_of,
    scope_of,
    scope_where,
    tally_columns,
    tally_of,
)
from adapters.sqlalchemy.tables.identity import branches, users
from adapters.sqlalchemy.tables.payments import payments as pm
from adapters.sqlalchemy.tables.policies import policies as p
from adapters.sqlalchemy.tables.policies import renewal_cases as rc
from application.analytics.views import (
    COLLECTED_PAYMENT_STATUSES,
    FAILED_STATUSES,
    NO_CHANNEL,
    OPEN_STATUSES,
    AgentFigures,
    AgentsQuery,
    DashboardFigures,
    DashboardQuery,
    GroupTally,
    SeriesFigures,
    Tally,
    month_bounds,
    week_bounds,
)
from application.shared.visibility import Visibility

__all__ = ["SqlAnalyticsReadModel", "dashboard_statements"]

Shape = tuple[Scope, tuple[str, ...]]
_DIMENSIONS = ("branch", "agent", "channel", "policy_type")


def _where(shape: Shape) -> list[Any]:
    scope, filters = shape
    return [*scope_where(scope), *(FILTERS[name]() for name in filters)]


def _in_range(cases: Any) -> list[ColumnElement[bool]]:
    return [cases.c.term_end_date >= bindparam("date_from", type_=Date),
            cases.c.term_end_date <= bindparam("date_to", type_=Date)]


def _source(shape: Shape) -> Any:
    """renewal_cases, joined to policies only when the reach or a filter reads the policy's branch or type."""
    scope, filters = shape
    if scope == "branch" or "branch_id" in filters or "policy_type" in filters:
        return rc.join(p, p.c.id == rc.c.policy_id)
    return rc


@lru_cache(maxsize=128)
def _groups(shape: Shape) -> Select[Any]:
    pay = collections(_in_range)
    base = (select(rc.c.status, rc.c.renewal_amount, (func.jsonb_array_length(rc.c.flags) > 0).label("flagged"),
                   p.c.branch_id, rc.c.assigned_to, func.coalesce(pay.c.channel, NO_CHANNEL).label("channel"),
                   p.c.policy_type, func.coalesce(pay.c.collected, 0).label("collected"))
            .select_from(rc.join(p, p.c.id == rc.c.policy_id).outerjoin(pay, pay.c.case_id == rc.c.id))
            .where(*_in_range(rc), *_where(shape))
            .subquery("b"))
    keys = (base.c.branch_id, base.c.assigned_to, base.c.channel, base.c.policy_type)
    return (select(*(func.grouping(k) for k in keys), *keys,
                   *tally_columns(base.c.status, base.c.renewal_amount, base.c.flagged, base.c.collected))
            .group_by(func.grouping_sets(*keys)))


def _bucket(at: Any, bucket: str) -> Any:
    return cast(func.date_trunc(bucket, func.timezone(bindparam("tz"), at)), Date)


@lru_cache(maxsize=128)
def _series(shape: Shape, bucket: str) -> Select[Any]:
    joined = _source(shape)
    instant = DateTime(timezone=True)
    start, end = bindparam("start_at", type_=instant), bindparam("end_at", type_=instant)
    zero = literal(0)
    created_day, closed_day, paid_day = (_bucket(at, bucket) for at in (rc.c.created_at, rc.c.closed_at, pm.c.paid_at))
    created = (select(created_day.label("day"), func.count().label("new_cases"), zero.label("renewed"),
                      zero.label("failed"), zero.label("collected"))
               .select_from(joined).where(rc.c.created_at >= start, rc.c.created_at < end, *_where(shape))
               .group_by(created_day))
    closed = (select(closed_day, zero, func.count().filter(rc.c.status == "renewed"),
                     func.count().filter(one_of(rc.c.status, FAILED_STATUSES)), zero)
              .select_from(joined)
              .where(rc.c.closed_at >= start, rc.c.closed_at < end, one_of(rc.c.status, ("renewed", *FAILED_STATUSES)),
                     *_where(shape))
              .group_by(closed_day))
    paid = (select(paid_day, zero, zero, zero, func.sum(func.coalesce(pm.c.paid_amount, 0) - pm.c.refunded_amount))
            .select_from(pm.join(joined, rc.c.id == pm.c.case_id))
            .where(pm.c.paid_at >= start, pm.c.paid_at < end, one_of(pm.c.status, COLLECTED_PAYMENT_STATUSES),
                   *_where(shape))
            .group_by(paid_day))
    events = union_all(created, closed, paid).subquery("events")
    return (select(events.c.day, func.sum(events.c.new_cases), func.sum(events.c.renewed),
                   func.sum(events.c.failed), func.sum(events.c.collected))
            .group_by(events.c.day).order_by(events.c.day))


@lru_cache(maxsize=128)
def _due(shape: Shape) -> Select[Any]:
    due = rc.c.term_end_date
    week = and_(due >= bindparam("week_start", type_=Date), due <= bindparam("week_end", type_=Date))
    month = and_(due >= bindparam("month_start", type_=Date), due <= bindparam("month_end", type_=Date))
    counts: list[Any] = [func.count().filter(week), func.count().filter(month)]
    return (select(*counts)
            .select_from(_source(shape))
            .where(due >= bindparam("due_from", type_=Date), due <= bindparam("due_to", type_=Date),
                   one_of(rc.c.status, OPEN_STATUSES), *_where(shape)))


_BRANCH_LABELS = select(branches.c.id, branches.c.code).where(any_of(branches.c.id, "ids", Integer))
_USER_LABELS = select(users.c.id, users.c.first_name, users.c.last_name).where(any_of(users.c.id, "ids", Integer))


def dashboard_statements(query: DashboardQuery, visibility: Visibility) -> dict[str, Select[Any]]:
    """The statements of one dashboard request by name (the benchmark times them one by one)."""
    shape = _shape(query, visibility)
    return {"groups": _groups(shape), "series": _series(shape, query.bucket), "due": _due(shape)}


def _shape(query: DashboardQuery, visibility: Visibility) -> Shape:
    scope, _ = scope_of(visibility)
    return scope, tuple(name for name in FILTERS if getattr(query, name) is not None)


def dashboard_params(query: DashboardQuery, visibility: Visibility, today: date, timezone: str) -> dict[str, Any]:
    week, month = week_bounds(today), month_bounds(today)
    _, scope_params = scope_of(visibility)
    return {**scope_params, **{n: getattr(query, n) for n in FILTERS if getattr(query, n) is not None},
            "date_from": query.date_from, "date_to": query.date_to, "tz": timezone,
            **day_bounds(query.date_from, query.date_to, timezone),
            "week_start": week[0], "week_end": week[1], "month_start": month[0], "month_end": month[1],
            "due_from": min(week[0], month[0]), "due_to": max(week[1], month[1])}


class SqlAnalyticsReadModel:
    def __init__(self, reads: AsyncpgReadPool, business_timezone: str) -> None:
        self._reads = reads
        self._tz = business_timezone
        self._compiled: dict[Select[Any], CompiledQuery] = {}

    def _query(self, stmt: Select[Any]) -> CompiledQuery:
        query = self._compiled.get(stmt)
        if query is None:
            query = self._compiled[stmt] = CompiledQuery(stmt)
        return query

    async def _fetch(self, stmt: Select[Any], params: dict[str, Any]) -> list[Any]:
        """One statement without JIT: compiling it costs more (~150 ms) than it saves on these aggregates."""
        async with self._reads.acquire() as conn, conn.transaction(readonly=True):
            await conn.execute("SET LOCAL jit = off")
            return await self._query(stmt).fetch(conn, params)

    async def dashboard(self, query: DashboardQuery, visibility: Visibility, today: date) -> DashboardFigures:
        statements = dashboard_statements(query, visibility)
        params = dashboard_params(query, visibility, today, self._tz)
        group_rows, series_rows, due_rows = await asyncio.gather(
            *(self._fetch(statements[name], params) for name in ("groups", "series", "due")))
        groups = []
        for row in group_rows:
            dimension = next(i for i in range(4) if row[i] == 0)
            key = row[4 + dimension]
            groups.append(GroupTally(dimension=_DIMENSIONS[dimension],  # type: ignore[arg-type]
                                     key="" if key is None else str(key), tally=tally_of(row, 8)))
        total = Tally()
        for group in (g for g in groups if g.dimension == "policy_type"):  # every case has exactly one type
            for field in Tally.__struct_fields__:
                setattr(total, field, getattr(total, field) + getattr(group.tally, field))
        series = [SeriesFigures(day=r[0], new_cases=int(r[1]), renewed=int(r[2]), failed=int(r[3]), collected=r[4])
                  for r in series_rows]
        return DashboardFigures(total=total, groups=groups, series=series, due_this_week=due_rows[0][0],
                                due_this_month=due_rows[0][1], labels=await self._labels(groups))

    async def _labels(self, groups: list[GroupTally]) -> dict[str, dict[str, str]]:
        branch_ids = [int(g.key) for g in groups if g.dimension == "branch" and g.key]
        user_ids = [int(g.key) for g in groups if g.dimension == "agent" and g.key]
        labels: dict[str, dict[str, str]] = {"branch": {}, "agent": {}}
        async with self._reads.acquire() as conn:
            if branch_ids:
                for r in await self._query(_BRANCH_LABELS).fetch(conn, {"ids": branch_ids}):
                    labels["branch"][str(r[0])] = r[1]
            if user_ids:
                for r in await self._query(_USER_LABELS).fetch(conn, {"ids": user_ids}):
                    labels["agent"][str(r[0])] = f"{r[1]} {r[2]}".strip()
        return labels

    async def agents(self, query: AgentsQuery, visibility: Visibility) -> list[AgentFigures]:
        scope, params = scope_of(visibility)
        rows = await self._fetch(agents_statement(scope),
                                 {**params, **day_bounds(query.date_from, query.date_to, self._tz)})
        return [agent_figures(r) for r in rows]
