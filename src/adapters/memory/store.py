"""The in-memory database the memory adapters share: committed state plus sequences."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from application.ports.uow import Job
from domain.policies.model import Customer, Policy, RenewalCase
from domain.shared.clock import Clock

__all__ = ["AuditRecord", "MemoryStore", "OutboxRow", "Tables"]


@dataclass
class OutboxRow:
    id: int
    job: Job
    relayed_at: datetime | None = None


@dataclass(frozen=True)
class AuditRecord:
    action: str
    entity_type: str
    entity_id: int | None
    data: dict[str, Any]


@dataclass
class Tables:
    customers: dict[int, Customer] = field(default_factory=dict)
    policies: dict[int, Policy] = field(default_factory=dict)
    cases: dict[int, RenewalCase] = field(default_factory=dict)
    outbox: dict[int, OutboxRow] = field(default_factory=dict)
    audit: list[AuditRecord] = field(default_factory=list)



class MemoryStore:
    """Committed tables; units of work copy them on entry and swap them in on commit."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.tables = Tables()
        self._sequences: dict[str, itertools.count[int]] = {}
        self.locked_outbox: set[int] = set()

    def next_value(self, name: str) -> int:
        return next(self._sequences.setdefault(name, itertools.count(1)))

    def now(self) -> datetime:
        return self.clock.now()
