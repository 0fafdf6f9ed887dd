"""The campaigns context's SQL unit of work: campaigns, recipients, segments and tracking hits on one session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.repositories.campaigns import SqlAlchemyCampaignRepository, SqlAlchemySegmentRepository
from adapters.sqlalchemy.repositories.campaigns_recipients import SqlAlchemyRecipientRepository
from adapters.sqlalchemy.repositories.campaigns_tracking import SqlAlchemyTrackingStore
from adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork
from application.shared.events import EventRouter
from domain.shared.clock import Clock

__all__ = ["SqlAlchemyCampaignsUnitOfWork"]


class SqlAlchemyCampaignsUnitOfWork(SqlAlchemyUnitOfWork):
    """`SqlAlchemyCampaignsUnitOfWork(session_factory, router, clock)`; timestamps come from the clock."""

    campaigns: SqlAlchemyCampaignRepository
    recipients: SqlAlchemyRecipientRepository
    segments: SqlAlchemySegmentRepository
    tracking: SqlAlchemyTrackingStore

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], router: EventRouter, clock: Clock) -> None:
        super().__init__(session_factory, router)
        self._clock = clock

    def _open(self) -> None:
        now = self._clock.now
        self.campaigns = SqlAlchemyCampaignRepository(self.session, now)
        self.recipients = SqlAlchemyRecipientRepository(self.session, now)
        self.segments = SqlAlchemySegmentRepository(self.session, now)
        self.tracking = SqlAlchemyTrackingStore(self.session)
