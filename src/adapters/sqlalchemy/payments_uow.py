"""The payments context's SQL unit of work: payments, refunds and webhook events on one session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.repositories.payments import SqlAlchemyPaymentEventStore, SqlAlchemyPaymentRepository
from adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork
from application.shared.events import EventRouter
from domain.shared.clock import Clock

__all__ = ["SqlAlchemyPaymentsUnitOfWork"]


class SqlAlchemyPaymentsUnitOfWork(SqlAlchemyUnitOfWork):
    """`SqlAlchemyPaymentsUnitOfWork(session_factory, router, clock)`; timestamps come from the clock."""

    payments: SqlAlchemyPaymentRepository
    payment_events: SqlAlchemyPaymentEventStore

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], router: EventRouter, clock: Clock) -> None:
        super().__init__(session_factory, router)
        self._clock = clock

    def _open(self) -> None:
        self.payments = SqlAlchemyPaymentRepository(self.session, self._clock.now)
        self.payment_events = SqlAlchemyPaymentEventStore(self.session)
