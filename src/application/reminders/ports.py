"""Ports and records of the reminders context: stored ladders, the sends of each (policy, term, step), candidates.

A send's `channels` is its channel plan and what became of each channel, in order: `{"channel", "role", "status",
"messageId"?, "code"?, "reason"?}` with role `fallback` (tried in order until one is queued), `each` (a step
without fallback: every one is sent to) or `always`; status `planned` (not tried yet: the send was claimed and the
worker stopped before dispatching), `queued`, `refused` (at queue time), `failed` (reported by messaging),
`standby` (a later fallback channel kept in reserve) or `cancelled` (the case closed first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from application.ports.uow import UnitOfWork
from domain.reminders.ladder import Ladder

__all__ = [
    "IN_FLIGHT", "STOPPED_POLICY_STATUSES", "LadderRepository", "ReminderCandidate", "ReminderCandidates",
    "ReminderSend", "RemindersUnitOfWork", "SendRepository", "StoredLadder", "offsets_of",
]

IN_FLIGHT = "queued"  # the status of a send whose messages are queued (or about to be)
# a policy in one of these takes no reminders, whatever its case says
STOPPED_POLICY_STATUSES = ("cancelled", "lapsed")


@dataclass(frozen=True, slots=True)
class ReminderCandidate:
    """An open, unpaid case with what the ladder and the templates need; `sent` = offsets already claimed."""

    case_id: int
    policy_id: int
    customer_id: int
    term_end_date: date
    policy_type: str
    policy_number: str
    customer_name: str
    renewal_date: date
    renewal_amount: Decimal
    grace_days: int
    first_seen: date
    sent: frozenset[int]


class ReminderCandidates(Protocol):
    async def due(self, today: date, *, after_case_id: int, limit: int,
                  earliest_offset: int) -> list[ReminderCandidate]:
        """Open, unpaid cases with id > `after_case_id` (id order, at most `limit`) whose renewal date lies
        between `today - grace` and `today - earliest_offset` (the window where a step may be due)."""
        ...

    async def get(self, case_id: int) -> ReminderCandidate | None:
        """The case as a candidate whatever the day, or None when it is missing, closed or paid."""
        ...


@dataclass(slots=True)
class ReminderSend:
    """A `reminder_sends` row: one step of one policy term, claimed once."""

    case_id: int
    policy_id: int
    term_end_date: date
    offset_days: int
    template: str
    due_on: date
    status: str = IN_FLIGHT
    channels: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def key(self) -> tuple[int, date, int]:
        return (self.policy_id, self.term_end_date, self.offset_days)


@dataclass(frozen=True, slots=True)
class StoredLadder:
    ladder: Ladder
    updated_by: int | None
    updated_at: datetime


class LadderRepository(Protocol):
    async def all(self) -> list[StoredLadder]:
        """Every configured ladder, by policy type."""
        ...

    async def get(self, policy_type: str) -> StoredLadder | None: ...

    async def save(self, ladder: Ladder, updated_by: int | None) -> None:
        """Insert or replace the ladder of `ladder.policy_type`."""
        ...

    async def delete(self, policy_type: str) -> bool:
        """Remove the configured ladder; False when there was none."""
        ...


class SendRepository(Protocol):
    async def claim(self, send: ReminderSend) -> bool:
        """Insert the send unless its (policy, term end, offset) exists: True when this unit inserted it (and sets
        its id). A concurrent claim of the same key waits for this unit and then finds it taken."""
        ...

    async def save(self, send: ReminderSend) -> None:
        """Write status, channels and reason of a claimed send."""
        ...

    async def of_case(self, case_id: int, *, lock: bool = False) -> list[ReminderSend]:
        """The case's sends in step order; `lock` holds them until the unit ends."""
        ...

    async def stalled(self, before: datetime, limit: int) -> list[ReminderSend]:
        """In-flight sends created before `before` with a channel still `planned` (a worker stopped mid-send)."""
        ...


class RemindersUnitOfWork(UnitOfWork, Protocol):
    ladders: LadderRepository
    sends: SendRepository


def offsets_of(sends: Sequence[ReminderSend]) -> frozenset[int]:
    return frozenset(send.offset_days for send in sends)
