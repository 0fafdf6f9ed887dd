"""SQL repositories of the renewal desk: case_events rows, the agent pool (capacities, locks), desk case queries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, insert, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.tables.cases import agent_capacities, case_events
from adapters.sqlalchemy.tables.identity import roles, users
from adapters.sqlalchemy.tables.policies import policies, renewal_cases
from application.policies.desk_ports import AgentSlot, CaseEvent, PriorityChange, StaffMember
from domain.policies import rules
from domain.policies.model import CLOSED_CASE_STATUSES

__all__ = ["SqlAgentPool", "SqlCaseEvents", "SqlDeskCases"]

_E, _A, _U, _R, _C, _P = case_events.c, agent_capacities.c, users.c, roles.c, renewal_cases.c, policies.c
_CLOSED = sorted(s.value for s in CLOSED_CASE_STATUSES)
_HOLDS = _R.permissions.has_key("cases:write")
_ASSIGNS = _R.permissions.has_key("cases:assign")


class SqlCaseEvents:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, events: list[CaseEvent]) -> None:
        if events:
            await self._session.execute(insert(case_events), [
                {"case_id": e.case_id, "kind": e.kind, "actor_id": e.actor_id, "at": e.at, "summary": e.summary,
                 "data": e.data} for e in events])

    async def list_for_case(self, case_id: int) -> list[CaseEvent]:
        rows = await self._session.execute(
            select(_E.id, _E.case_id, _E.kind, _E.actor_id, _E.at, _E.summary, _E.data)
            .where(_E.case_id == case_id).order_by(_E.at, _E.id))
        return [CaseEvent(id=r.id, case_id=r.case_id, kind=r.kind, actor_id=r.actor_id, at=r.at, summary=r.summary,
                          data=dict(r.data)) for r in rows]

    async def exists(self, case_id: int, kind: str, key: str, value: str) -> bool:
        found = await self._session.scalar(
            select(literal(1)).where(_E.case_id == case_id, _E.kind == kind, _E.data[key].astext == value).limit(1))
        return found is not None


class SqlAgentPool:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def staff(self, user_id: int) -> StaffMember | None:
        row = (await self._session.execute(
            select(_U.id, _U.first_name, _U.last_name, _U.branch_id, _U.status,
                   func.coalesce(_HOLDS, False).label("holds"), func.coalesce(_ASSIGNS, False).label("assigns"))
            .select_from(users.outerjoin(roles, roles.c.id == _U.role_id)).where(_U.id == user_id))).one_or_none()
        if row is None:
            return None
        return StaffMember(id=row.id, name=f"{row.first_name} {row.last_name}".strip(), branch_id=row.branch_id,
                           active=row.status == "active", can_hold_cases=bool(row.holds),
                           can_assign=bool(row.assigns))

    async def lock_agents(self, user_ids: list[int]) -> list[AgentSlot]:
        ids = sorted(set(user_ids))
        if not ids:
            return []
        await self._session.execute(
            pg_insert(agent_capacities).from_select(
                ["user_id"], select(_U.id).where(_U.id.in_(ids)))
            .on_conflict_do_nothing(index_elements=["user_id"]))
        await self._session.execute(
            select(_A.user_id).where(_A.user_id.in_(ids)).order_by(_A.user_id).with_for_update())
        return await self._slots(ids)

    async def lock_branch_agents(self, branch_id: int) -> list[AgentSlot]:
        ids = list((await self._session.scalars(
            select(_U.id).select_from(users.join(roles, roles.c.id == _U.role_id))
            .where(_U.branch_id == branch_id, _U.status == "active", _HOLDS, ~_ASSIGNS).order_by(_U.id))).all())
        return await self.lock_agents(ids)

    async def mark_assigned(self, user_id: int, at: datetime) -> None:
        await self._session.execute(update(agent_capacities).where(_A.user_id == user_id).values(last_assigned_at=at))

    async def set_capacity(self, user_id: int, max_open_cases: int | None) -> None:
        await self._session.execute(
            update(agent_capacities).where(_A.user_id == user_id).values(max_open_cases=max_open_cases))

    async def slot(self, user_id: int) -> AgentSlot:
        slots = await self._slots([user_id])
        return slots[0] if slots else AgentSlot(user_id=user_id, branch_id=None, max_open_cases=None, open_cases=0,
                                                last_assigned_at=None)

    async def _slots(self, ids: list[int]) -> list[AgentSlot]:
        open_count = (select(func.count()).where(_C.assigned_to == _U.id, _C.status.not_in(_CLOSED))
                      .correlate(users).scalar_subquery())
        rows = await self._session.execute(
            select(_U.id, _U.branch_id, _U.first_name, _U.last_name, _A.max_open_cases, _A.last_assigned_at,
                   open_count.label("open_cases"))
            .select_from(users.outerjoin(agent_capacities, _A.user_id == _U.id))
            .where(_U.id.in_(ids)).order_by(_U.id))
        return [AgentSlot(user_id=r.id, branch_id=r.branch_id, max_open_cases=r.max_open_cases,
                          open_cases=int(r.open_cases), last_assigned_at=r.last_assigned_at,
                          name=f"{r.first_name} {r.last_name}".strip()) for r in rows]


_RANK = {"low": 1, "medium": 2, "high": 3, "urgent": 4}


def _rank(column: Any) -> Any:
    return case(_RANK, value=column, else_=0)


_RAISE_PRIORITIES = text(f"""
WITH wanted AS (
    SELECT rc.id, rc.priority AS previous,
           CASE WHEN p.renewal_date - CAST(:today AS date) <= {rules.URGENT_DAYS}
                     AND rc.renewal_amount >= {rules.HIGH_PREMIUM} THEN 'urgent'
                WHEN p.renewal_date - CAST(:today AS date) <= {rules.URGENT_DAYS}
                     OR rc.renewal_amount >= {rules.HIGH_PREMIUM} THEN 'high'
                WHEN p.renewal_date - CAST(:today AS date) > {rules.SOON_DAYS}
                     AND rc.renewal_amount < {rules.LOW_PREMIUM} THEN 'low'
                ELSE 'medium' END AS priority
    FROM renewal_cases rc JOIN policies p ON p.id = rc.policy_id
    WHERE rc.status <> ALL(CAST(:closed AS text[]))
), raised AS (
    SELECT w.id, w.previous, w.priority FROM wanted w
    WHERE array_position(ARRAY['low', 'medium', 'high', 'urgent'], w.priority)
        > coalesce(array_position(ARRAY['low', 'medium', 'high', 'urgent'], CAST(w.previous AS text)), 0)
)
UPDATE renewal_cases rc SET priority = r.priority, updated_at = now()
FROM raised r WHERE rc.id = r.id
RETURNING rc.id, r.previous, r.priority
""")


class SqlDeskCases:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def branches(self, case_ids: list[int]) -> dict[int, int | None]:
        if not case_ids:
            return {}
        rows = await self._session.execute(
            select(_C.id, _P.branch_id).select_from(renewal_cases.join(policies, _P.id == _C.policy_id))
            .where(_C.id.in_(case_ids)))
        return {r.id: r.branch_id for r in rows}

    async def unassigned_open(self, branch_id: int, limit: int) -> list[int]:
        rows = await self._session.scalars(
            select(_C.id).select_from(renewal_cases.join(policies, _P.id == _C.policy_id))
            .where(and_(_P.branch_id == branch_id, _C.assigned_to.is_(None), _C.status.not_in(_CLOSED)))
            .order_by(_rank(_C.priority).desc(), _C.term_end_date, _C.id).limit(limit))
        return list(rows.all())

    async def raise_priorities(self, today: date) -> list[PriorityChange]:
        rows = await self._session.execute(_RAISE_PRIORITIES, {"today": today, "closed": _CLOSED})
        return sorted((PriorityChange(case_id=r.id, previous=r.previous, priority=r.priority) for r in rows),
                      key=lambda c: c.case_id)
