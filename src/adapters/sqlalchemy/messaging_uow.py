"""The messaging context's SQL unit of work: templates, messages, consents, provider events on one session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.repositories.messaging import (
    SqlAlchemyConsentRepository,
    SqlAlchemyConversationWindows,
    SqlAlchemyProviderEventStore,
    SqlAlchemyTemplateRepository,
    SqlAlchemyWhatsAppTemplateRepository,
)
from adapters.sqlalchemy.repositories.messaging_messages import SqlAlchemyMessageRepository
from adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork
from application.shared.events import EventRouter
from domain.shared.clock import Clock

__all__ = ["SqlAlchemyMessagingUnitOfWork"]


class SqlAlchemyMessagingUnitOfWork(SqlAlchemyUnitOfWork):
    """`SqlAlchemyMessagingUnitOfWork(session_factory, router, clock)`; timestamps come from the clock."""

    templates: SqlAlchemyTemplateRepository
    whatsapp_templates: SqlAlchemyWhatsAppTemplateRepository
    messages: SqlAlchemyMessageRepository
    consents: SqlAlchemyConsentRepository
    provider_events: SqlAlchemyProviderEventStore
    windows: SqlAlchemyConversationWindows

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], router: EventRouter, clock: Clock) -> None:
        super().__init__(session_factory, router)
        self._clock = clock

    def _open(self) -> None:
        now = self._clock.now
        self.templates = SqlAlchemyTemplateRepository(self.session, now)
        self.whatsapp_templates = SqlAlchemyWhatsAppTemplateRepository(self.session)
        self.messages = SqlAlchemyMessageRepository(self.session, now)
        self.consents = SqlAlchemyConsentRepository(self.session, now)
        self.provider_events = SqlAlchemyProviderEventStore(self.session)
        self.windows = SqlAlchemyConversationWindows(self.session)
