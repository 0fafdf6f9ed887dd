"""In-memory twins of messaging's smaller records: WhatsApp templates, consents, provider events, windows.

Staged until the unit of work commits, as in adapters/memory/messaging.py (which re-exports these classes).
"""

from __future__ import annotations

import builtins
import copy
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from adapters.memory.store import MemoryStore
from application.ports.whatsapp import ApprovedTemplate
from domain.messaging.model import Channel, Consent, ProviderEvent, WhatsAppTemplate

__all__ = [
    "InMemoryConsentRepository", "InMemoryConversationWindows", "InMemoryProviderEventStore",
    "InMemoryWhatsAppTemplateRepository", "sync_changes",
]

DISABLED = "disabled"


def sync_changes(current: WhatsAppTemplate, incoming: ApprovedTemplate, now: datetime) -> WhatsAppTemplate | None:
    """The row after Meta's report, or None when nothing Meta reports differs from what is kept."""
    same = (current.category, current.status, current.components, current.provider_id, current.rejected_reason) \
        == (incoming.category, incoming.status, incoming.components, incoming.provider_id, incoming.rejected_reason)
    if same:
        return None
    became_approved = incoming.status == "approved" and current.status != "approved"
    return replace(current, category=incoming.category, status=incoming.status,
                   components=copy.deepcopy(incoming.components), provider_id=incoming.provider_id,
                   rejected_reason=incoming.rejected_reason,
                   approved_at=now if became_approved else current.approved_at, updated_at=now)


class InMemoryWhatsAppTemplateRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.staged: dict[int, WhatsAppTemplate] = {}

    def _all(self) -> dict[int, WhatsAppTemplate]:
        return {**self._store.tables.whatsapp_templates, **self.staged}

    async def sync(self, templates: Sequence[ApprovedTemplate], now: datetime) -> int:
        incoming = {(t.name, t.language): t for t in templates}  # the last of a repeated key wins
        by_key = {(t.name, t.language): t for t in self._all().values()}
        changed = 0
        for key, template in incoming.items():
            current = by_key.get(key)
            if current is None:
                row_id = self._store.next_value("whatsapp_templates.id")
                self.staged[row_id] = WhatsAppTemplate(
                    id=row_id, name=template.name, language=template.language, category=template.category,
                    status=template.status, components=copy.deepcopy(template.components),
                    provider_id=template.provider_id, rejected_reason=template.rejected_reason,
                    approved_at=now if template.status == "approved" else None, updated_at=now)
                changed += 1
            elif (updated := sync_changes(current, template, now)) is not None:
                self.staged[updated.id or 0] = updated
                changed += 1
        for key, current in by_key.items():
            if key not in incoming and current.status != DISABLED:
                self.staged[current.id or 0] = replace(current, status=DISABLED, updated_at=now)
                changed += 1
        return changed

    async def get(self, name: str, language: str) -> WhatsAppTemplate | None:
        found = [t for t in self._all().values() if (t.name, t.language) == (name, language)]
        return copy.deepcopy(found[0]) if found else None

    async def list(self) -> builtins.list[WhatsAppTemplate]:
        return [copy.deepcopy(t) for t in sorted(self._all().values(), key=lambda t: (t.name, t.language))]


class InMemoryConsentRepository:
    def __init__(self, store: MemoryStore, at: datetime) -> None:
        self._store = store
        self._at = at
        self.staged: dict[tuple[str, str], Consent] = {}

    async def get(self, channel: Channel, address: str) -> Consent | None:
        key = (Channel(channel).value, address)
        found = self.staged.get(key) or self._store.tables.consents.get(key)
        return None if found is None else copy.deepcopy(found)

    async def put(self, consent: Consent) -> None:
        consent.updated_at = consent.updated_at or self._at
        self.staged[(Channel(consent.channel).value, consent.address)] = copy.deepcopy(consent)


class InMemoryProviderEventStore:
    def __init__(self, store: MemoryStore, at: datetime) -> None:
        self._store = store
        self._at = at
        self.staged: dict[int, ProviderEvent] = {}
        self.processed: dict[int, datetime] = {}
        self.claims: set[tuple[object, ...]] = set()

    def _claim(self, key: tuple[object, ...]) -> bool:
        if key in self._store.reserved_keys:
            return False
        self._store.reserved_keys.add(key)
        self.claims.add(key)
        return True

    def release(self) -> None:
        self._store.reserved_keys.difference_update(self.claims)
        self.claims.clear()

    async def record(self, event: ProviderEvent) -> ProviderEvent | None:
        known = {(e.provider, e.event_id) for e in (*self._store.tables.provider_events.values(),
                                                      *self.staged.values())}
        if (event.provider, event.event_id) in known or not self._claim(("event", event.provider, event.event_id)):
            return None
        kept = replace(event, id=self._store.next_value("provider_events.id"), payload=copy.deepcopy(event.payload))
        self.staged[kept.id or 0] = kept
        return replace(kept, payload=copy.deepcopy(kept.payload))

    async def get(self, event_id: int) -> ProviderEvent | None:
        found = self.staged.get(event_id) or self._store.tables.provider_events.get(event_id)
        return None if found is None else replace(found, payload=copy.deepcopy(found.payload))

    async def mark_processed(self, event_id: int, now: datetime) -> bool:
        exists = event_id in self.staged or event_id in self._store.tables.provider_events
        if (not exists or event_id in self.processed or event_id in self._store.tables.processed_events
                or not self._claim(("processed", event_id))):
            return False
        self.processed[event_id] = now
        return True


class InMemoryConversationWindows:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.staged: dict[str, datetime] = {}

    async def touch(self, phone: str, at: datetime) -> None:
        known = self.staged.get(phone)
        self.staged[phone] = at if known is None else max(known, at)

    async def last_inbound(self, phone: str) -> datetime | None:
        times = [t for t in (self._store.tables.whatsapp_windows.get(phone), self.staged.get(phone)) if t]
        return max(times) if times else None
