"""The messaging context's in-memory unit of work: staged writes applied on commit, dropped otherwise."""

from __future__ import annotations

import copy
from datetime import datetime

from adapters.memory.messaging import (
    InMemoryConsentRepository,
    InMemoryConversationWindows,
    InMemoryMessageRepository,
    InMemoryProviderEventStore,
    InMemoryTemplateRepository,
    InMemoryWhatsAppTemplateRepository,
)
from adapters.memory.unit_of_work import InMemoryUnitOfWorkBase

__all__ = ["InMemoryMessagingUnitOfWork"]


class InMemoryMessagingUnitOfWork(InMemoryUnitOfWorkBase):
    """`InMemoryMessagingUnitOfWork(store, router)`; timestamps from the store's clock, one per unit."""

    templates: InMemoryTemplateRepository
    whatsapp_templates: InMemoryWhatsAppTemplateRepository
    messages: InMemoryMessageRepository
    consents: InMemoryConsentRepository
    provider_events: InMemoryProviderEventStore
    windows: InMemoryConversationWindows

    def _open(self) -> None:
        at = self._store.now()
        self.templates = InMemoryTemplateRepository(self._store, at)
        self.whatsapp_templates = InMemoryWhatsAppTemplateRepository(self._store)
        self.messages = InMemoryMessageRepository(self._store, at)
        self.consents = InMemoryConsentRepository(self._store, at)
        self.provider_events = InMemoryProviderEventStore(self._store, at)
        self.windows = InMemoryConversationWindows(self._store)

    def _check(self) -> None:
        self.templates.check_unique()
        self.messages.check_unique()

    def _apply(self, now: datetime) -> None:
        tables = self._store.tables
        for template_id in self.templates.deleted:
            tables.templates.pop(template_id, None)
        for template_id, template in self.templates.staged.items():
            tables.templates[template_id] = copy.deepcopy(template)
        for row_id, whatsapp in self.whatsapp_templates.staged.items():
            tables.whatsapp_templates[row_id] = copy.deepcopy(whatsapp)
        for message_id, message in self.messages.staged.items():
            tables.messages[message_id] = copy.deepcopy(message)
        for message in tables.messages.values():  # the foreign key's ON DELETE SET NULL
            if message.template_id in self.templates.deleted:
                message.template_id = None
        for key, consent in self.consents.staged.items():
            tables.consents[key] = copy.deepcopy(consent)
        tables.provider_events.update(self.provider_events.staged)
        for event_id, processed_at in self.provider_events.processed.items():
            tables.processed_events.setdefault(event_id, processed_at)
        for phone, at in self.windows.staged.items():
            known = tables.whatsapp_windows.get(phone)
            tables.whatsapp_windows[phone] = at if known is None else max(known, at)

    def _clear_staged(self) -> None:
        for repo in (self.templates, self.whatsapp_templates, self.messages, self.consents, self.provider_events,
                     self.windows):
            repo.staged.clear()
        self.templates.deleted.clear()
        self.provider_events.processed.clear()
        self.provider_events.release()
