"""The in-memory units of work's shared skeleton: staged writes applied on commit, dropped otherwise."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Self

from adapters.memory.store import AuditRecord, MemoryStore, OutboxRow
from application.ports.uow import Job, OutboxMessage
from application.shared.events import EventRouter
from domain.shared.events import EventRecorder

__all__ = ["InMemoryOutbox", "InMemoryUnitOfWorkBase"]


class InMemoryOutbox:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.pending: list[Job] = []
        self.claimed: set[int] = set()
        self.relayed: list[int] = []

    def add(self, job: Job) -> None:
        self.pending.append(job)

    async def claim(self, limit: int) -> list[OutboxMessage]:
        rows = [r for r in self._store.tables.outbox.values()
                if r.relayed_at is None and r.id not in self._store.locked_outbox][:limit]
        for row in rows:
            self._store.locked_outbox.add(row.id)
            self.claimed.add(row.id)
        return [OutboxMessage(id=r.id, job=r.job) for r in rows]

    async def mark_relayed(self, ids: list[int]) -> None:
        self.relayed.extend(ids)

    def release(self) -> None:
        self._store.locked_outbox.difference_update(self.claimed)
        self.claimed.clear()


class InMemoryUnitOfWorkBase:
    """Base unit of work: a context's subclass builds its repositories in `_open` and fills in the hooks.

    A commit routes the tracked aggregates' events to jobs, runs `_check` (raise there to apply nothing),
    `_apply(now)`, writes the outbox rows and the audit records, then clears what was staged; a rollback or
    leaving the unit without a commit runs `_discard`.
    """

    outbox: InMemoryOutbox

    def __init__(self, store: MemoryStore, router: EventRouter) -> None:
        self._store = store
        self._router = router
        self._seen: list[EventRecorder] = []
        self.committed = False

    def _open(self) -> None:
        """Build the context's repositories on `self._store` (`self._store.now()` stamps the unit)."""

    def _check(self) -> None:
        """Raise if the staged writes cannot all be applied (unique keys, references); nothing is applied then."""

    def _apply(self, now: datetime) -> None:
        """Write the staged rows into the store's tables."""

    def _clear_staged(self) -> None:
        """Empty the repositories' staged writes (after a commit, and when discarding)."""

    def _discard(self) -> None:
        """Drop whatever was not committed."""
        self._reset()

    def _release(self) -> None:
        """Give back what the unit holds (claimed outbox rows), committed or not."""
        self.outbox.release()

    def _reset(self) -> None:
        self._clear_staged()
        self.outbox.pending, self.outbox.relayed = [], []
        self._seen = []

    async def __aenter__(self) -> Self:
        self._open()
        self.outbox = InMemoryOutbox(self._store)
        self._seen = []
        self.committed = False
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._discard()  # whatever was not committed (nothing is left staged after a commit)
        self._release()

    def track(self, aggregate: EventRecorder) -> None:
        self._seen.append(aggregate)

    async def commit(self) -> None:
        events = [event for aggregate in self._seen for event in aggregate.pull_events()]
        for job in self._router.jobs_for(events):
            self.outbox.add(job)
        self._check()  # every staged key and reference before anything is applied: all or nothing
        now = self._store.now()
        self._apply(now)
        tables = self._store.tables
        for job in self.outbox.pending:
            row_id = self._store.next_value("outbox")
            tables.outbox[row_id] = OutboxRow(id=row_id, job=job)
        for row_id in self.outbox.relayed:
            tables.outbox[row_id].relayed_at = now
        tables.audit.extend(AuditRecord(e.name, e.entity_type, e.entity_id, e.payload()) for e in events)
        self._reset()
        self.committed = True

    async def rollback(self) -> None:
        self._discard()
