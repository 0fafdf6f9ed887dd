"""The unit-of-work port: one transaction, explicit commit, rollback otherwise."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, Self

import msgspec

from domain.shared.events import EventRecorder

__all__ = ["Job", "Outbox", "OutboxMessage", "UnitOfWork"]


class Job(msgspec.Struct, frozen=True, kw_only=True):
    """A background job: a named task with primitive arguments; `key` makes it idempotent."""

    name: str
    args: dict[str, Any] = {}
    key: str | None = None


class OutboxMessage(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    job: Job
    attempts: int = 0


class Outbox(Protocol):
    def add(self, job: Job) -> None:
        """Buffer a job; it is written in the same transaction as the unit's commit."""
        ...

    async def claim(self, limit: int) -> list[OutboxMessage]:
        """Lock up to `limit` unrelayed messages that no concurrent relay holds."""
        ...

    async def mark_relayed(self, ids: list[int]) -> None: ...


class UnitOfWork(Protocol):
    """Base of every context's unit of work."""

    outbox: Outbox

    def track(self, aggregate: EventRecorder) -> None:
        """Collect the aggregate's events at commit (audit log and subscribed jobs)."""
        ...

    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None: ...
