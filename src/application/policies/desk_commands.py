"""Commands of the renewal desk; they double as the HTTP request bodies (camelCase)."""

from __future__ import annotations

import msgspec

from application.shared.visibility import Visibility

__all__ = [
    "Actor", "Assignment", "AutoAssignment", "BulkAssignment", "CapacityChange", "Escalation",
    "FlagResolution", "NewNote", "PriorityChange", "StatusChange",
]

class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who acts and which cases the acting permission reaches (an invisible case is not found)."""

    user_id: int | None
    visibility: Visibility


class StatusChange(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Move a case; `reason` is required to close it as lost or cancelled."""

    status: str
    reason: str | None = None


class Assignment(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Give a case to a user; `force` exceeds the assignee's capacity (callers reaching every case only)."""

    assignee_id: str | int
    force: bool = False


class BulkAssignment(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Give several cases to one user: all or none."""

    case_ids: list[str | int]
    assignee_id: str | int
    force: bool = False


class AutoAssignment(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Round-robin: the given cases, or the unassigned open cases of `branchId` (the caller's branch by default)."""

    case_ids: list[str | int] | None = None
    branch_id: str | int | None = None


class Escalation(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    to_user_id: str | int
    reason: str


class NewNote(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    text: str


class FlagResolution(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Clear the case's flags with `code` (those of one payment when `paymentId` is given), saying what was done."""

    code: str
    note: str
    payment_id: str | int | None = None


class PriorityChange(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    priority: str


class CapacityChange(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """The most open cases the agent may hold; null for no limit."""

    max_open_cases: int | None
