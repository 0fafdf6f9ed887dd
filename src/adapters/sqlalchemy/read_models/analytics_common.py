"""Pieces the analytics statements share: the caller's reach, the filters, collections per case, tally columns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, String, and_, any_, bindparam, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.sql.selectable import Subquery

from adapters.sqlalchemy.tables.payments import payments as pm
from adapters.sqlalchemy.tables.policies import policies as p
from adapters.sqlalchemy.tables.policies import renewal_cases as rc
from application.analytics.views import COLLECTED_PAYMENT_STATUSES, IN_PROGRESS_STATUSES, OPEN_STATUSES, Tally
from application.shared.visibility import Visibility

__all__ = ["FILTERS", "Scope", "collections", "day_bounds", "one_of", "scope_of", "scope_where", "tally_columns",
           "tally_of"]

Scope = Literal["all", "own", "branch"]

# query field -> condition; only the filters present join a statement's shape
FILTERS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "branch_id": lambda: p.c.branch_id == bindparam("branch_id", type_=Integer),
    "policy_type": lambda: p.c.policy_type == bindparam("policy_type", type_=String),
    "agent_id": lambda: rc.c.assigned_to == bindparam("agent_id", type_=Integer),
}


def scope_of(visibility: Visibility) -> tuple[Scope, dict[str, int]]:
    """The scope's statement shape and bound values; a branch reach without a branch is an own reach."""
    if visibility.reach == "all":
        return "all", {}
    assert visibility.user_id is not None
    if visibility.reach == "branch" and visibility.branch_id is not None:
        return "branch", {"scope_user": visibility.user_id, "scope_branch": visibility.branch_id}
    return "own", {"scope_user": visibility.user_id}


def scope_where(scope: Scope) -> tuple[ColumnElement[bool], ...]:
    """The cases a reach sees (the same rule as the case list): own = assigned or escalated to the user."""
    if scope == "all":
        return ()
    user = bindparam("scope_user", type_=Integer)
    owns = or_(rc.c.assigned_to == user, rc.c.escalated_to == user)
    if scope == "own":
        return (owns,)
    return (or_(owns, p.c.branch_id == bindparam("scope_branch", type_=Integer)),)


def day_bounds(first: date, last: date, timezone: str) -> dict[str, datetime]:
    """[start_at, end_at): the instants of the business days `first` to `last`."""
    tz = ZoneInfo(timezone)
    return {"start_at": datetime.combine(first, time(), tz),
            "end_at": datetime.combine(last + timedelta(days=1), time(), tz)}


def one_of(column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
    """`column = ANY($n)` with the values as the parameter's default (CompiledQuery cannot expand IN lists)."""
    return column == any_(literal(list(values), ARRAY(String)))


def collections(cases_where: Callable[[Any], Sequence[ColumnElement[bool]]]) -> Subquery:
    """Per case: money collected (paid less refunded) and the channel of the link that collected last.

    Only the payments of the cases `cases_where(r)` selects (`r` an alias of renewal_cases) are read. The channel of
    the latest payment is the last element of the greatest [paid_at, id, channel] text array (paid_at as fixed-width
    digits, '' when unpaid; the id zero-padded): an ordinary aggregate, so PostgreSQL hashes the groups instead of
    sorting every case's payments for an ordered array_agg.
    """
    r = rc.alias("r")
    latest = func.max(array([
        func.coalesce(func.to_char(func.timezone("UTC", pm.c.paid_at), "YYYYMMDDHH24MISSUS"), ""),
        func.lpad(cast(pm.c.id, String), 12, "0"), func.coalesce(pm.c.channel, "")]))
    return (select(pm.c.case_id.label("case_id"),
                   func.sum(func.coalesce(pm.c.paid_amount, 0) - pm.c.refunded_amount).label("collected"),
                   func.nullif(latest[3], "").label("channel"))
            .select_from(pm.join(r, r.c.id == pm.c.case_id))
            .where(one_of(pm.c.status, COLLECTED_PAYMENT_STATUSES), *cases_where(r))
            .group_by(pm.c.case_id).subquery("pay"))


def tally_columns(status: ColumnElement[Any], amount: ColumnElement[Any], flagged: ColumnElement[bool],
                  collected: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    """The aggregates `tally_of` reads back, in its order."""
    is_open = one_of(status, OPEN_STATUSES)
    count = func.count
    return [count(), count().filter(status == "new"), count().filter(one_of(status, IN_PROGRESS_STATUSES)),
            count().filter(status == "renewed"), count().filter(status == "lapsed"), count().filter(status == "lost"),
            count().filter(and_(is_open, flagged)), func.sum(amount).filter(status != "cancelled"),
            func.sum(amount).filter(is_open), func.sum(collected)]


TALLY_WIDTH = 10


def tally_of(row: Sequence[Any], start: int) -> Tally:
    r = row[start:start + TALLY_WIDTH]
    zero = Decimal("0")
    return Tally(cases=r[0], new=r[1], in_progress=r[2], renewed=r[3], lapsed=r[4], lost=r[5], flagged_open=r[6],
                 premium_due=r[7] if r[7] is not None else zero, premium_open=r[8] if r[8] is not None else zero,
                 collected=r[9] if r[9] is not None else zero)
