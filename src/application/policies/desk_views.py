"""What the renewal desk's use cases answer (camelCase on the wire, ids as public ids)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from application.policies.desk_ports import AgentSlot, CaseEvent
from domain.policies.model import RenewalCase
from domain.shared.ids import CaseId, UserId

__all__ = [
    "AutoAssignResult", "AutoAssigned", "BulkAssignResult", "CapacityView", "CaseEventView", "DeskCaseView",
    "Skipped", "capacity_view", "desk_case_view", "event_view",
]


class DeskCaseView(msgspec.Struct, kw_only=True, rename="camel"):
    """The case's workflow fields after an action."""

    id: CaseId
    case_number: str
    status: str
    priority: str
    assigned_to: UserId | None
    assigned_at: datetime | None
    escalated_to: UserId | None
    escalation_reason: str | None
    escalated_at: datetime | None
    payment_status: str
    communication_attempts: int
    last_contact_date: datetime | None
    first_contact_date: datetime | None
    closed_at: datetime | None
    flags: list[dict[str, Any]]
    updated_at: datetime | None


class CaseEventView(msgspec.Struct, kw_only=True, rename="camel"):
    case_id: CaseId
    kind: str
    actor_id: UserId | None
    at: datetime
    summary: str
    data: dict[str, Any]


class BulkAssignResult(msgspec.Struct, kw_only=True, rename="camel"):
    assignee_id: UserId
    cases: list[DeskCaseView]


class AutoAssigned(msgspec.Struct, kw_only=True, rename="camel"):
    case_id: CaseId
    assignee_id: UserId


class Skipped(msgspec.Struct, kw_only=True, rename="camel"):
    """A case round-robin left alone: already_assigned, closed, no_branch, no_agent_with_room."""

    case_id: CaseId
    reason: str


class AutoAssignResult(msgspec.Struct, kw_only=True, rename="camel"):
    assigned: list[AutoAssigned]
    skipped: list[Skipped]


class CapacityView(msgspec.Struct, kw_only=True, rename="camel"):
    user_id: UserId
    max_open_cases: int | None
    open_cases: int
    available: int | None  # None: no limit
    last_assigned_at: datetime | None


def desk_case_view(case: RenewalCase) -> DeskCaseView:
    assert case.id is not None
    return DeskCaseView(
        id=CaseId(case.id), case_number=case.case_number, status=case.status.value, priority=case.priority.value,
        assigned_to=None if case.assigned_to is None else UserId(case.assigned_to), assigned_at=case.assigned_at,
        escalated_to=None if case.escalated_to is None else UserId(case.escalated_to),
        escalation_reason=case.escalation_reason, escalated_at=case.escalated_at,
        payment_status=case.payment_status.value, communication_attempts=case.communication_attempts,
        last_contact_date=case.last_contact_date, first_contact_date=case.first_contact_date,
        closed_at=case.closed_at, flags=list(case.flags), updated_at=case.updated_at)


def event_view(event: CaseEvent) -> CaseEventView:
    return CaseEventView(case_id=CaseId(event.case_id), kind=event.kind,
                         actor_id=None if event.actor_id is None else UserId(event.actor_id), at=event.at,
                         summary=event.summary, data=dict(event.data))


def capacity_view(slot: AgentSlot) -> CapacityView:
    room = None if slot.max_open_cases is None else max(0, slot.max_open_cases - slot.open_cases)
    return CapacityView(user_id=UserId(slot.user_id), max_open_cases=slot.max_open_cases,
                        open_cases=slot.open_cases, available=room, last_assigned_at=slot.last_assigned_at)
