"""In-memory twins of the renewal desk's repositories (records kept in MemoryStore.tables).

`tables.case_events`: id -> `CaseEvent` (with its id); `tables.agent_capacities`: user id -> `CapacityRecord`.
Writes are staged and applied by the desk unit of work on commit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

import msgspec

from adapters.memory.repositories import InMemoryRenewalCaseRepository
from adapters.memory.store import MemoryStore
from application.policies.desk_ports import AgentSlot, CaseEvent, PriorityChange, StaffMember
from domain.identity.model import User
from domain.identity.permissions import Permission
from domain.policies.model import PRIORITY_RANK, CasePriority, RenewalCase
from domain.policies.rules import case_priority

__all__ = ["CapacityRecord", "InMemoryAgentPool", "InMemoryCaseEvents", "InMemoryDeskCases"]


@dataclass(frozen=True)
class CapacityRecord:
    """An `agent_capacities` row."""

    user_id: int
    max_open_cases: int | None = None
    last_assigned_at: datetime | None = None


class InMemoryCaseEvents:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.staged: list[CaseEvent] = []

    async def append(self, events: list[CaseEvent]) -> None:
        self.staged.extend(events)

    def _all(self) -> list[CaseEvent]:
        return [*self._store.tables.case_events.values(), *self.staged]

    async def list_for_case(self, case_id: int) -> list[CaseEvent]:
        rows = [e for e in self._all() if e.case_id == case_id]
        return sorted(rows, key=lambda e: (e.at, e.id or 0))

    async def exists(self, case_id: int, kind: str, key: str, value: str) -> bool:
        return any(e.case_id == case_id and e.kind == kind and str(e.data.get(key)) == value for e in self._all())

    def apply(self) -> None:
        for event in self.staged:
            event_id = self._store.next_value("case_events.id")
            self._store.tables.case_events[event_id] = msgspec.structs.replace(event, id=event_id)


def _grants(store: MemoryStore, user: User) -> set[Permission]:
    role = store.tables.roles.get(user.role_id)
    return set() if role is None else {grant.permission for grant in role.grants}


class InMemoryAgentPool:
    def __init__(self, store: MemoryStore, cases: InMemoryRenewalCaseRepository) -> None:
        self._store = store
        self._cases = cases
        self.staged: dict[int, CapacityRecord] = {}

    async def staff(self, user_id: int) -> StaffMember | None:
        user = self._store.tables.users.get(user_id)
        if user is None:
            return None
        grants = _grants(self._store, user)
        return StaffMember(id=user_id, name=user.full_name, branch_id=user.branch_id, active=user.is_active,
                           can_hold_cases=Permission.CASES_WRITE in grants,
                           can_assign=Permission.CASES_ASSIGN in grants)

    async def lock_agents(self, user_ids: list[int]) -> list[AgentSlot]:
        ids = sorted({u for u in user_ids if u in self._store.tables.users})
        for user_id in ids:
            if self._record(user_id) is None:
                self.staged[user_id] = CapacityRecord(user_id=user_id)
        return [self._slot(u) for u in ids]

    async def lock_branch_agents(self, branch_id: int) -> list[AgentSlot]:
        ids = []
        for user_id, user in self._store.tables.users.items():
            grants = _grants(self._store, user)
            if (user.branch_id == branch_id and user.is_active and Permission.CASES_WRITE in grants
                    and Permission.CASES_ASSIGN not in grants):
                ids.append(user_id)
        return await self.lock_agents(ids)

    async def mark_assigned(self, user_id: int, at: datetime) -> None:
        self.staged[user_id] = replace(self._record(user_id) or CapacityRecord(user_id), last_assigned_at=at)

    async def set_capacity(self, user_id: int, max_open_cases: int | None) -> None:
        self.staged[user_id] = replace(self._record(user_id) or CapacityRecord(user_id), max_open_cases=max_open_cases)

    async def slot(self, user_id: int) -> AgentSlot:
        return self._slot(user_id)

    def _record(self, user_id: int) -> CapacityRecord | None:
        found: CapacityRecord | None = self.staged.get(user_id) or self._store.tables.agent_capacities.get(user_id)
        return found

    def _slot(self, user_id: int) -> AgentSlot:
        record = self._record(user_id) or CapacityRecord(user_id)
        user = self._store.tables.users.get(user_id)
        cases: dict[int, RenewalCase] = {**self._store.tables.cases, **self._cases.staged}
        open_cases = sum(1 for c in cases.values() if c.assigned_to == user_id and not c.is_closed)
        return AgentSlot(user_id=user_id, branch_id=None if user is None else user.branch_id,
                         max_open_cases=record.max_open_cases, open_cases=open_cases,
                         last_assigned_at=record.last_assigned_at, name="" if user is None else user.full_name)

    def apply(self) -> None:
        self._store.tables.agent_capacities.update(self.staged)


class InMemoryDeskCases:
    def __init__(self, store: MemoryStore, cases: InMemoryRenewalCaseRepository) -> None:
        self._store = store
        self._cases = cases

    def _merged(self) -> dict[int, RenewalCase]:
        return {**self._store.tables.cases, **self._cases.staged}

    async def branches(self, case_ids: list[int]) -> dict[int, int | None]:
        cases, policies = self._merged(), self._store.tables.policies
        return {i: policies[cases[i].policy_id].branch_id for i in case_ids if i in cases}

    async def unassigned_open(self, branch_id: int, limit: int) -> list[int]:
        policies = self._store.tables.policies
        found = [c for c in self._merged().values()
                 if c.assigned_to is None and not c.is_closed and policies[c.policy_id].branch_id == branch_id]
        found.sort(key=lambda c: (-PRIORITY_RANK[c.priority], c.term_end_date, c.id or 0))
        return [c.id for c in found[:limit] if c.id is not None]

    async def raise_priorities(self, today: date) -> list[PriorityChange]:
        changes: list[PriorityChange] = []
        policies = self._store.tables.policies
        for case_id, case in sorted(self._merged().items()):
            if case.is_closed:
                continue
            wanted = case_priority(case.renewal_amount, policies[case.policy_id].renewal_date, today)
            if PRIORITY_RANK[wanted] > PRIORITY_RANK[CasePriority(case.priority)]:
                changes.append(PriorityChange(case_id=case_id, previous=case.priority.value, priority=wanted.value))
                loaded = await self._cases.get(case_id)
                assert loaded is not None
                loaded.priority = wanted
                await self._cases.save(loaded)
        return changes
