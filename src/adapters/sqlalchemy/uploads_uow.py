"""The uploads context's SQL unit of work: the upload records on one session."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.repositories.uploads import SqlAlchemyUploadRepository
from adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork
from application.shared.events import EventRouter
from domain.shared.clock import Clock

__all__ = ["SqlAlchemyUploadsUnitOfWork"]


class SqlAlchemyUploadsUnitOfWork(SqlAlchemyUnitOfWork):
    """Timestamps come from the injected clock; the list's date filters are days of `business_timezone`.

    The rows of an upload's batches are not written here but by the book writer, in transactions of its own.
    """

    uploads: SqlAlchemyUploadRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], router: EventRouter, clock: Clock,
                 business_timezone: str = "UTC") -> None:
        super().__init__(session_factory, router)
        self._clock = clock
        self._zone = ZoneInfo(business_timezone)

    def _open(self) -> None:
        self.uploads = SqlAlchemyUploadRepository(self.session, self._clock.now, self._zone)
