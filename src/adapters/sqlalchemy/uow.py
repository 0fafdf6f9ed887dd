"""The SQLAlchemy unit of work: one AsyncSession per unit, explicit commit, rollback otherwise."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.outbox import SqlAlchemyOutbox
from adapters.sqlalchemy.tables.shared import audit_log
from application.shared.events import EventRouter
from domain.shared.events import DomainEvent, EventRecorder

__all__ = ["SqlAlchemyUnitOfWork"]


class SqlAlchemyUnitOfWork:
    """Base unit of work; each context's subclass adds its repositories in `_open`."""

    session: AsyncSession
    outbox: SqlAlchemyOutbox

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], router: EventRouter) -> None:
        self._session_factory = session_factory
        self._router = router
        self._seen: list[EventRecorder] = []
        self.committed = False

    def _open(self) -> None:
        """Build the context's repositories on `self.session`."""

    async def __aenter__(self) -> Self:
        self.session = self._session_factory()
        self.outbox = SqlAlchemyOutbox(self.session)
        self._seen = []
        self.committed = False
        self._open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        try:
            if not self.committed:
                await self.session.rollback()
        finally:
            await self.session.close()

    def track(self, aggregate: EventRecorder) -> None:
        self._seen.append(aggregate)

    async def commit(self) -> None:
        """Write the events' audit rows and subscribed jobs, then commit all in one transaction."""
        events = [event for aggregate in self._seen for event in aggregate.pull_events()]
        for job in self._router.jobs_for(events):
            self.outbox.add(job)
        await self._write_audit(events)
        await self.outbox.flush()
        await self.session.commit()
        self.committed = True
        self._seen = []

    async def rollback(self) -> None:
        await self.session.rollback()

    async def _write_audit(self, events: list[DomainEvent]) -> None:
        if events:
            rows = [{"action": e.name, "entity_type": e.entity_type, "entity_id": e.entity_id,
                     "data": e.payload()} for e in events]
            await self.session.execute(insert(audit_log), rows)
