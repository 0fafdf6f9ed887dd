"""The reminders context's SQL unit of work: ladders and reminder sends on one session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.repositories.reminders import SqlAlchemyLadderRepository, SqlAlchemySendRepository
from adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork
from application.shared.events import EventRouter
from domain.shared.clock import Clock

__all__ = ["SqlAlchemyRemindersUnitOfWork"]


class SqlAlchemyRemindersUnitOfWork(SqlAlchemyUnitOfWork):
    """`SqlAlchemyRemindersUnitOfWork(session_factory, router, clock)`; timestamps come from the clock."""

    ladders: SqlAlchemyLadderRepository
    sends: SqlAlchemySendRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], router: EventRouter, clock: Clock) -> None:
        super().__init__(session_factory, router)
        self._clock = clock

    def _open(self) -> None:
        now = self._clock.now
        self.ladders = SqlAlchemyLadderRepository(self.session, now)
        self.sends = SqlAlchemySendRepository(self.session, now)
