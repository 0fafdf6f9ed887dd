"""The messaging context's in-memory unit of work: staged writes applied on commit, dropped otherwise."""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Self

from adapters.memory.messaging import (
    InMemoryConsentRepository,
    InMemoryConversationWindows,
    InMemoryMessageRepository,
    InMemoryProviderEventStore,
    InMemoryTemplateRepository,
    InMemoryWhatsAppTemplateRepository,
)
from adapters.memory.store import AuditRecord, MemoryStore, OutboxRow
from adapters.memory.uow import InMemoryOutbox
from application.shared.events import EventRouter
from domain.shared.events import EventRecorder

__all__ = ["InMemoryMessagingUnitOfWork"]


class InMemoryMessagingUnitOfWork:
    """`InMemoryMessagingUnitOfWork(store, router)`; timestamps from the store's clock, one per unit."""

    templates: InMemoryTemplateRepository
    whatsapp_templates: InMemoryWhatsAppTemplateRepository
    messages: InMemoryMessageRepository
    consents: InMemoryConsentRepository
    provider_events: InMemoryProviderEventStore
    windows: InMemoryConversationWindows
    outbox: InMemoryOutbox

    def __init__(self, store: MemoryStore, router: EventRouter) -> None:
        self._store = store
        self._router = router
        self._seen: list[EventRecorder] = []
        self.committed = False

    async def __aenter__(self) -> Self:
        at = self._store.now()
        self.templates = InMemoryTemplateRepository(self._store, at)
        self.whatsapp_templates = InMemoryWhatsAppTemplateRepository(self._store)
        self.messages = InMemoryMessageRepository(self._store, at)
        self.consents = InMemoryConsentRepository(self._store, at)
        self.provider_events = InMemoryProviderEventStore(self._store, at)
        self.windows = InMemoryConversationWindows(self._store)
        self.outbox = InMemoryOutbox(self._store)
        self._seen = []
        self.committed = False
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._discard()
        self.outbox.release()

    def track(self, aggregate: EventRecorder) -> None:
        self._seen.append(aggregate)

    async def commit(self) -> None:
        events = [event for aggregate in self._seen for event in aggregate.pull_events()]
        for job in self._router.jobs_for(events):
            self.outbox.add(job)
        # every staged unique key is checked before anything is applied: all or nothing
        self.templates.check_unique()
        self.messages.check_unique()
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
        for job in self.outbox.pending:
            row_id = self._store.next_value("outbox")
            tables.outbox[row_id] = OutboxRow(id=row_id, job=job)
        now = self._store.now()
        for row_id in self.outbox.relayed:
            tables.outbox[row_id].relayed_at = now
        tables.audit.extend(AuditRecord(e.name, e.entity_type, e.entity_id, e.payload()) for e in events)
        self._discard()
        self.committed = True

    async def rollback(self) -> None:
        self._discard()

    def _discard(self) -> None:
        for repo in (self.templates, self.whatsapp_templates, self.messages, self.consents, self.provider_events,
                     self.windows):
            repo.staged.clear()
        self.templates.deleted.clear()
        self.provider_events.processed.clear()
        self.provider_events.release()
        self.outbox.pending, self.outbox.relayed = [], []
        self._seen = []
