"""Ports of the messaging context: its repositories, its unit of work, and what it needs from other contexts."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import msgspec

from application.ports.uow import UnitOfWork
from application.ports.whatsapp import ApprovedTemplate
from application.shared.pagination import Page, PageRequest
from domain.messaging.model import Channel, Consent, Message, ProviderEvent, Template, WhatsAppTemplate

__all__ = [
    "CaseGate",
    "ConsentRepository",
    "ConversationWindows",
    "CustomerContact",
    "CustomerDirectory",
    "MessageFilters",
    "MessageRepository",
    "MessagingUnitOfWork",
    "ProviderEventStore",
    "TemplateFilters",
    "TemplateRepository",
    "WhatsAppTemplateRepository",
]


class TemplateFilters(msgspec.Struct, frozen=True, kw_only=True):
    channels: tuple[Channel, ...] = ()  # any of; empty = all
    active: bool | None = None
    q: str | None = None  # in the name


class TemplateRepository(Protocol):
    async def add(self, template: Template) -> Template:
        """Insert; returns it with its id and timestamps."""
        ...

    async def get(self, template_id: int) -> Template | None: ...

    async def find(self, name: str, channel: Channel, language: str = "en") -> Template | None:
        """The template with this name on this channel and language (names are unique per channel and language)."""
        ...

    async def save(self, template: Template) -> None: ...

    async def delete(self, template_id: int) -> bool:
        """Remove it (messages keep their rendered copy); False when there was none."""
        ...

    async def list(self, filters: TemplateFilters, page: PageRequest) -> Page[Template]: ...


class WhatsAppTemplateRepository(Protocol):
    async def sync(self, templates: Sequence[ApprovedTemplate], now: datetime) -> int:
        """Upsert Meta's templates by (name, language); set `approved_at` when one becomes approved; mark the
        ones Meta no longer lists `disabled`. Returns how many rows changed."""
        ...

    async def get(self, name: str, language: str) -> WhatsAppTemplate | None: ...

    async def list(self) -> builtins.list[WhatsAppTemplate]: ...


class MessageFilters(msgspec.Struct, frozen=True, kw_only=True):
    channels: tuple[Channel, ...] = ()
    statuses: tuple[str, ...] = ()
    customer_id: int | None = None
    case_id: int | None = None
    campaign_id: int | None = None
    recipient: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class MessageRepository(Protocol):
    async def add(self, message: Message) -> Message:
        """Insert; returns it with its id and timestamps."""
        ...

    async def get(self, message_id: int) -> Message | None: ...

    async def get_for_update(self, message_id: int) -> Message | None:
        """Read and lock the row until the unit of work ends (the worker's send, a webhook's status)."""
        ...

    async def find_by_provider_id(self, provider_message_id: str) -> Message | None:
        """The message a provider's status event is about, locked like `get_for_update`."""
        ...

    async def find_by_idempotency_key(self, created_by: int | None, key: str) -> Message | None: ...

    async def save(self, message: Message) -> None: ...

    async def list(self, filters: MessageFilters, page: PageRequest) -> Page[Message]: ...


class ConsentRepository(Protocol):
    async def get(self, channel: Channel, address: str) -> Consent | None: ...

    async def put(self, consent: Consent) -> None:
        """Insert or replace the decision for (channel, address)."""
        ...


class ProviderEventStore(Protocol):
    async def record(self, event: ProviderEvent) -> ProviderEvent | None:
        """Keep the raw event; None when (provider, event_id) was already recorded (a duplicate delivery)."""
        ...

    async def get(self, event_id: int) -> ProviderEvent | None: ...

    async def mark_processed(self, event_id: int, now: datetime) -> bool:
        """Mark it processed; False when it already was (its effect must not be applied twice)."""
        ...


class ConversationWindows(Protocol):
    """WhatsApp's customer-service window: 24 hours from the customer's last inbound message."""

    async def touch(self, phone: str, at: datetime) -> None:
        """Record an inbound message from `phone` at `at` (keeps the latest)."""
        ...

    async def last_inbound(self, phone: str) -> datetime | None: ...


class MessagingUnitOfWork(UnitOfWork, Protocol):
    templates: TemplateRepository
    whatsapp_templates: WhatsAppTemplateRepository
    messages: MessageRepository
    consents: ConsentRepository
    provider_events: ProviderEventStore
    windows: ConversationWindows


class CustomerContact(msgspec.Struct, frozen=True, kw_only=True):
    """What messaging needs to know of a customer (read from the policies context)."""

    customer_id: int
    name: str
    email: str | None = None
    phone: str | None = None  # E.164
    timezone: str | None = None
    preferences: dict[str, bool] = {}  # channel -> allowed, from the upload's communication_preferences


class CaseGate(Protocol):
    """Whether a case is closed (renewed, lapsed, lost, cancelled): its queued reminders are dropped at delivery."""

    async def closed_status(self, case_id: int) -> str | None:
        """The case's status when it is closed, else None (also None for an unknown case)."""
        ...


class CustomerDirectory(Protocol):
    async def contact(self, customer_id: int) -> CustomerContact | None: ...

    async def by_address(self, channel: Channel, address: str) -> CustomerContact | None:
        """The customer with this e-mail address or phone number, if exactly one has it."""
        ...
