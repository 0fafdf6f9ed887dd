"""Ports of the renewal desk's case work: the case timeline rows, the staff who hold cases, the agent pool."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

import msgspec

from application.ports.uow import UnitOfWork
from domain.policies.ports import RenewalCaseRepository

__all__ = [
    "AgentPool", "AgentSlot", "CaseEvent", "CaseEvents", "DeskCases", "DeskUnitOfWork", "PriorityChange",
    "StaffMember",
]


class CaseEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A `case_events` row: what a person or a desk job did on a case (kinds: status_changed, assigned,
    escalated, note_added, priority_changed, contacted, payment_link_sent, flagged)."""

    case_id: int
    kind: str
    actor_id: int | None
    at: datetime
    summary: str
    data: dict[str, Any] = {}
    id: int | None = None


class StaffMember(msgspec.Struct, frozen=True, kw_only=True):
    """A user as the desk sees one: may they hold cases (cases:write) and assign them (cases:assign)?"""

    id: int
    name: str
    branch_id: int | None
    active: bool
    can_hold_cases: bool
    can_assign: bool


class AgentSlot(msgspec.Struct, frozen=True, kw_only=True):
    """An agent's capacity row with their open-case count (non-closed cases assigned to them)."""

    user_id: int
    branch_id: int | None
    max_open_cases: int | None  # None: no limit
    open_cases: int
    last_assigned_at: datetime | None
    name: str = ""

    @property
    def has_room(self) -> bool:
        return self.max_open_cases is None or self.open_cases < self.max_open_cases


class PriorityChange(msgspec.Struct, frozen=True, kw_only=True):
    case_id: int
    previous: str
    priority: str


class CaseEvents(Protocol):
    async def append(self, events: list[CaseEvent]) -> None:
        """Insert the rows (in order)."""
        ...

    async def list_for_case(self, case_id: int) -> list[CaseEvent]:
        """The case's rows by time, then id."""
        ...

    async def exists(self, case_id: int, kind: str, key: str, value: str) -> bool:
        """True when the case has a row of `kind` whose `data[key]` is `value` (idempotency of desk jobs)."""
        ...


class AgentPool(Protocol):
    async def staff(self, user_id: int) -> StaffMember | None: ...

    async def lock_agents(self, user_ids: list[int]) -> list[AgentSlot]:
        """Create missing capacity rows, then lock them FOR UPDATE in user-id order; open counts read after."""
        ...

    async def lock_branch_agents(self, branch_id: int) -> list[AgentSlot]:
        """The branch's active users who hold cases but do not assign them, locked as `lock_agents` does."""
        ...

    async def mark_assigned(self, user_id: int, at: datetime) -> None: ...

    async def set_capacity(self, user_id: int, max_open_cases: int | None) -> None: ...

    async def slot(self, user_id: int) -> AgentSlot:
        """The user's capacity and open cases without locking (no row yet: no limit, never assigned)."""
        ...


class DeskCases(Protocol):
    async def branches(self, case_ids: list[int]) -> dict[int, int | None]:
        """The branch of each existing case's policy (missing cases are left out)."""
        ...

    async def unassigned_open(self, branch_id: int, limit: int) -> list[int]:
        """Open cases of the branch's policies with no assignee, most urgent first."""
        ...

    async def raise_priorities(self, today: date) -> list[PriorityChange]:
        """Set each open case's priority to the rule's (domain.policies.rules.case_priority) where that is
        higher than its current one; never lowers a priority. Returns what changed."""
        ...


class DeskUnitOfWork(UnitOfWork, Protocol):
    cases: RenewalCaseRepository
    events: CaseEvents
    agents: AgentPool
    desk: DeskCases
