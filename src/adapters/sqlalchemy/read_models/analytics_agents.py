"""Agent performance in one statement: the visible cases assigned in the range, grouped by assignee."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, extract, func, select

from adapters.sqlalchemy.read_models.analytics_common import (
    Scope,
    collections,
    scope_where,
    tally_columns,
    tally_of,
)
from adapters.sqlalchemy.tables.identity import branches, users
from adapters.sqlalchemy.tables.policies import policies as p
from adapters.sqlalchemy.tables.policies import renewal_cases as rc
from application.analytics.views import AgentFigures

__all__ = ["agent_figures", "agents_statement"]


def _assigned_in_range(cases: Any) -> list[ColumnElement[bool]]:
    assigned = func.coalesce(cases.c.assigned_at, cases.c.created_at)
    return [cases.c.assigned_to.is_not(None), assigned >= bindparam("start_at"), assigned < bindparam("end_at")]


@lru_cache(maxsize=8)
def agents_statement(scope: Scope) -> Select[Any]:
    """Per assignee: tallies, first contacts and hours from assignment (else creation) to first contact.

    A first contact made before the assignment (a reminder, say) counts as 0 hours.
    """
    pay = collections(_assigned_in_range)
    assigned = func.coalesce(rc.c.assigned_at, rc.c.created_at)
    hours = func.greatest(0, extract("epoch", rc.c.first_contact_date - assigned) / 3600)
    return (select(rc.c.assigned_to, users.c.first_name, users.c.last_name, users.c.branch_id, branches.c.code,
                   func.count(rc.c.first_contact_date), func.coalesce(func.sum(hours), 0),
                   *tally_columns(rc.c.status, rc.c.renewal_amount, func.jsonb_array_length(rc.c.flags) > 0,
                                  func.coalesce(pay.c.collected, 0)))
            .select_from(rc.join(p, p.c.id == rc.c.policy_id).join(users, users.c.id == rc.c.assigned_to)
                         .outerjoin(branches, branches.c.id == users.c.branch_id)
                         .outerjoin(pay, pay.c.case_id == rc.c.id))
            .where(assigned >= bindparam("start_at"), assigned < bindparam("end_at"), *scope_where(scope))
            .group_by(rc.c.assigned_to, users.c.first_name, users.c.last_name, users.c.branch_id, branches.c.code))


def agent_figures(r: Sequence[Any]) -> AgentFigures:
    return AgentFigures(user_id=r[0], name=f"{r[1]} {r[2]}".strip(), branch_id=r[3], branch=r[4], contacted=r[5],
                        contact_hours=float(r[6]), tally=tally_of(r, 7))
