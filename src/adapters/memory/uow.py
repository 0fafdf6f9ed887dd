"""The in-memory unit of work: staged writes applied on commit, dropped otherwise."""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Self

from adapters.memory.repositories import (
    InMemoryCustomerRepository,
    InMemoryNumberSequence,
    InMemoryPolicyRepository,
    InMemoryRenewalCaseRepository,
)
from adapters.memory.store import AuditRecord, MemoryStore, OutboxRow
from application.ports.uow import Job, OutboxMessage
from application.shared.events import EventRouter
from domain.shared.events import EventRecorder

__all__ = ["InMemoryOutbox", "InMemoryPoliciesUnitOfWork"]


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


class InMemoryPoliciesUnitOfWork:
    def __init__(self, store: MemoryStore, router: EventRouter) -> None:
        self._store = store
        self._router = router
        self._seen: list[EventRecorder] = []
        self.committed = False

    async def __aenter__(self) -> Self:
        at = self._store.now()
        self.customers = InMemoryCustomerRepository(self._store, at)
        self.policies = InMemoryPolicyRepository(self._store, at)
        self.cases = InMemoryRenewalCaseRepository(self._store, self.policies, at)
        self.sequences = InMemoryNumberSequence(self._store)
        self.outbox = InMemoryOutbox(self._store)
        self._seen = []
        self.committed = False
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.outbox.release()

    def track(self, aggregate: EventRecorder) -> None:
        self._seen.append(aggregate)

    async def commit(self) -> None:
        events = [event for aggregate in self._seen for event in aggregate.pull_events()]
        for job in self._router.jobs_for(events):
            self.outbox.add(job)
        tables = self._store.tables
        # check every staged unique key before applying anything: all or nothing
        self.customers.check_unique()
        self.policies.check_unique()
        self.cases.check_unique()
        for repo_staged, table in ((self.customers.staged, tables.customers),
                                   (self.policies.staged, tables.policies), (self.cases.staged, tables.cases)):
            for key, entity in repo_staged.items():
                table[key] = copy.deepcopy(entity)  # type: ignore[assignment]
        now = self._store.now()
        for job in self.outbox.pending:
            row_id = self._store.next_value("outbox")
            tables.outbox[row_id] = OutboxRow(id=row_id, job=job)
        for row_id in self.outbox.relayed:
            tables.outbox[row_id].relayed_at = now
        tables.audit.extend(AuditRecord(e.name, e.entity_type, e.entity_id, e.payload()) for e in events)
        self.outbox.pending, self.outbox.relayed = [], []
        for repo in (self.customers, self.policies, self.cases):
            repo.staged.clear()
        self._seen = []
        self.committed = True

    async def rollback(self) -> None:
        for repo in (self.customers, self.policies, self.cases):
            repo.staged.clear()
        self.outbox.pending, self.outbox.relayed = [], []
        self._seen = []
