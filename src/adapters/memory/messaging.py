"""In-memory twins of the messaging adapters, with the SQL adapters' semantics.

Ids come from the store's counters; records are copied on the way in and out. Writes are staged and applied
when the unit of work commits (`InMemoryMessagingUnitOfWork`), checked again there against unique keys.
A provider event's (provider, event_id) and a processed mark are claimed in `MemoryStore.reserved_keys` while
the unit is open, as PostgreSQL's unique index and row lock make a concurrent transaction wait: here the later
one gets its "already there" answer at once (None / False), even if the first then rolls back.
Lists: `created_from <= created_at < created_to`, newest first then id (see adapters/sqlalchemy/repositories).
"""

from __future__ import annotations

import builtins
import copy
from datetime import datetime
from typing import Any

from adapters.memory.messaging_records import (
    InMemoryConsentRepository,
    InMemoryConversationWindows,
    InMemoryProviderEventStore,
    InMemoryWhatsAppTemplateRepository,
)
from adapters.memory.store import MemoryStore
from adapters.sqlalchemy.read_models.customer_contacts import contact_address, preferences_from_stored
from application.messaging.ports import CustomerContact, MessageFilters, TemplateFilters
from application.shared.pagination import Page, PageRequest, SortKey
from domain.messaging.delivery import MessageStatus
from domain.messaging.model import Channel, Message, Template
from domain.policies.model import Customer
from domain.shared.errors import Conflict, NotFound, ValidationFailed

__all__ = [
    "MESSAGE_SORT", "TEMPLATE_SORT", "InMemoryConsentRepository", "InMemoryConversationWindows",
    "InMemoryCustomerDirectory", "InMemoryMessageRepository", "InMemoryProviderEventStore",
    "InMemoryTemplateRepository", "InMemoryWhatsAppTemplateRepository", "template_name_taken",
]

TEMPLATE_SORT = ("createdAt", "updatedAt", "name")
MESSAGE_SORT = ("createdAt", "updatedAt")
_DEFAULT_SORT = (SortKey("createdAt", descending=True),)
_ATTRIBUTES = {"createdAt": "created_at", "updatedAt": "updated_at", "name": "name"}


def template_name_taken() -> Conflict:
    """The error both adapters raise for a second template of one name, channel and language."""
    return Conflict("a template with this name already exists for this channel and language", field="name")


def _template_key(template: Template) -> tuple[str, str, str]:
    return (Channel(template.channel).value, template.name.lower(), template.language)


def _paged(found: builtins.list[Any], page: PageRequest, allowed: tuple[str, ...]) -> Page[Any]:
    """Sort (ties broken by id, in the last key's direction), copy out one page, count them all."""
    for key in page.sort:
        if key.field not in allowed:
            raise ValidationFailed.on("sort", f"cannot sort by '{key.field}'; allowed: {', '.join(allowed)}")
    sort = page.sort or _DEFAULT_SORT
    found.sort(key=lambda r: r.id or 0, reverse=sort[-1].descending)
    for key in reversed(sort):
        found.sort(key=lambda r, a=_ATTRIBUTES[key.field]: getattr(r, a), reverse=key.descending)  # type: ignore[misc]
    items = [copy.deepcopy(r) for r in found[page.offset:page.offset + page.limit]]
    return Page(items=items, page=page.page, limit=page.limit, total=len(found))


def _in_range(at: datetime | None, start: datetime | None, end: datetime | None) -> bool:
    if start is None and end is None:
        return True
    return at is not None and (start is None or at >= start) and (end is None or at < end)


class InMemoryTemplateRepository:
    def __init__(self, store: MemoryStore, at: datetime) -> None:
        self._store = store
        self._at = at
        self.staged: dict[int, Template] = {}
        self.deleted: set[int] = set()

    def _all(self) -> dict[int, Template]:
        merged = {**self._store.tables.templates, **self.staged}
        return {k: v for k, v in merged.items() if k not in self.deleted}

    def _check(self, template: Template) -> None:
        key = _template_key(template)
        if any(other.id != template.id and _template_key(other) == key for other in self._all().values()):
            raise template_name_taken()

    def check_unique(self) -> None:
        """At commit: what other units committed since may now clash with what this one staged."""
        committed = {k: v for k, v in self._store.tables.templates.items() if k not in self.deleted}
        for template in self.staged.values():
            key = _template_key(template)
            if any(other.id != template.id and _template_key(other) == key for other in committed.values()):
                raise template_name_taken()

    async def add(self, template: Template) -> Template:
        self._check(template)
        template.id = self._store.next_value("templates.id")
        template.created_at = template.created_at or self._at
        template.updated_at = self._at
        self.staged[template.id] = copy.deepcopy(template)
        return template

    async def get(self, template_id: int) -> Template | None:
        found = self._all().get(template_id)
        return None if found is None else copy.deepcopy(found)

    async def find(self, name: str, channel: Channel, language: str = "en") -> Template | None:
        key = (Channel(channel).value, name.lower(), language)
        found = [t for t in self._all().values() if _template_key(t) == key]
        return copy.deepcopy(found[0]) if found else None

    async def save(self, template: Template) -> None:
        if template.id is None or template.id not in self._all():
            raise NotFound("template", template.id)
        self._check(template)
        template.updated_at = self._at
        self.staged[template.id] = copy.deepcopy(template)

    async def delete(self, template_id: int) -> bool:
        if template_id not in self._all():
            return False
        self.staged.pop(template_id, None)
        self.deleted.add(template_id)
        return True

    async def list(self, filters: TemplateFilters, page: PageRequest) -> Page[Template]:
        channels = {Channel(c).value for c in filters.channels}
        q = (filters.q or "").strip().lower()
        found = [t for t in self._all().values()
                 if (not channels or Channel(t.channel).value in channels)
                 and (filters.active is None or t.is_active == filters.active)
                 and (not q or q in t.name.lower())]
        return _paged(found, page, TEMPLATE_SORT)


def _message_keys(message: Message) -> builtins.list[tuple[object, ...]]:
    keys: builtins.list[tuple[object, ...]] = []
    if message.provider_message_id is not None:
        keys.append(("provider", message.provider_message_id))
    if message.idempotency_key is not None:
        keys.append(("idempotency", message.created_by, message.idempotency_key))
    return keys


def _message_taken(key: tuple[object, ...]) -> Conflict:
    if key[0] == "provider":
        return Conflict("providerMessageId is already taken", field="providerMessageId")
    return Conflict("idempotencyKey is already taken", field="idempotencyKey")


class InMemoryMessageRepository:
    def __init__(self, store: MemoryStore, at: datetime) -> None:
        self._store = store
        self._at = at
        self.staged: dict[int, Message] = {}

    def _all(self) -> dict[int, Message]:
        return {**self._store.tables.messages, **self.staged}

    def _check(self, message: Message, others: builtins.list[Message]) -> None:
        mine = set(_message_keys(message))
        for other in others:
            if other.id != message.id:
                for key in mine.intersection(_message_keys(other)):
                    raise _message_taken(key)

    def check_unique(self) -> None:
        committed = builtins.list(self._store.tables.messages.values())
        for message in self.staged.values():
            self._check(message, committed)

    async def add(self, message: Message) -> Message:
        self._check(message, builtins.list(self._all().values()))
        message.id = self._store.next_value("messages.id")
        message.created_at = message.created_at or self._at
        message.updated_at = self._at
        self.staged[message.id] = copy.deepcopy(message)
        return message

    async def get(self, message_id: int) -> Message | None:
        found = self._all().get(message_id)
        return None if found is None else copy.deepcopy(found)

    async def get_for_update(self, message_id: int) -> Message | None:
        return await self.get(message_id)

    async def find_by_provider_id(self, provider_message_id: str) -> Message | None:
        found = [m for m in self._all().values() if m.provider_message_id == provider_message_id]
        return copy.deepcopy(found[0]) if found else None

    async def find_by_idempotency_key(self, created_by: int | None, key: str) -> Message | None:
        found = [m for m in self._all().values() if m.idempotency_key == key and m.created_by == created_by]
        return copy.deepcopy(found[0]) if found else None

    async def save(self, message: Message) -> None:
        if message.id is None or message.id not in self._all():
            raise NotFound("message", message.id)
        self._check(message, builtins.list(self._all().values()))
        message.updated_at = self._at
        self.staged[message.id] = copy.deepcopy(message)

    async def list(self, filters: MessageFilters, page: PageRequest) -> Page[Message]:
        channels = {Channel(c).value for c in filters.channels}
        statuses = set(filters.statuses)
        found = [m for m in self._all().values()
                 if (not channels or Channel(m.channel).value in channels)
                 and (not statuses or MessageStatus(m.status).value in statuses)
                 and (filters.customer_id is None or m.customer_id == filters.customer_id)
                 and (filters.case_id is None or m.case_id == filters.case_id)
                 and (filters.campaign_id is None or m.campaign_id == filters.campaign_id)
                 and (filters.recipient is None or m.recipient == filters.recipient)
                 and _in_range(m.created_at, filters.created_from, filters.created_to)]
        return _paged(found, page, MESSAGE_SORT)


def _contact(customer: Customer) -> CustomerContact:
    assert customer.id is not None
    return CustomerContact(customer_id=customer.id, name=customer.full_name, email=customer.email,
                           phone=customer.phone, timezone=None,
                           preferences=preferences_from_stored(customer.communication_preferences))


class InMemoryCustomerDirectory:
    """`InMemoryCustomerDirectory(store)`: the store's committed customers, read as `SqlCustomerDirectory` does."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def contact(self, customer_id: int) -> CustomerContact | None:
        customer = self._store.tables.customers.get(customer_id)
        return None if customer is None else _contact(customer)

    async def by_address(self, channel: Channel, address: str) -> CustomerContact | None:
        attribute, value = contact_address(channel, address)
        if not value:
            return None
        found = [c for c in self._store.tables.customers.values() if getattr(c, attribute) == value]
        return _contact(found[0]) if len(found) == 1 else None
