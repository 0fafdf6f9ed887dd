"""The identity context's SQL unit of work: users, roles and the audit trail on one session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.repositories.identity import SqlAlchemyRoleRepository, SqlAlchemyUserRepository
from adapters.sqlalchemy.repositories.identity_audit import SqlAlchemyAuditTrail
from adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork
from application.shared.events import EventRouter
from domain.shared.clock import Clock

__all__ = ["SqlAlchemyIdentityUnitOfWork"]


class SqlAlchemyIdentityUnitOfWork(SqlAlchemyUnitOfWork):
    """Timestamps (created_at, updated_at, audit occurred_at) come from the injected clock."""

    users: SqlAlchemyUserRepository
    roles: SqlAlchemyRoleRepository
    audit: SqlAlchemyAuditTrail

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], router: EventRouter,
                 clock: Clock) -> None:
        super().__init__(session_factory, router)
        self._clock = clock

    def _open(self) -> None:
        self.users = SqlAlchemyUserRepository(self.session, self._clock.now)
        self.roles = SqlAlchemyRoleRepository(self.session, self._clock.now)
        self.audit = SqlAlchemyAuditTrail(self.session, self._clock.now)

    async def commit(self) -> None:
        """Insert the buffered audit entries, then commit as the base does (events, outbox, transaction)."""
        await self.audit.flush()
        await super().commit()

    async def rollback(self) -> None:
        self.audit.discard()
        await super().rollback()
