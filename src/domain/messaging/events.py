"""Events of the messaging context: facts other contexts may react to (routed to their jobs by the EventRouter)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from domain.shared.events import DomainEvent

__all__ = ["InboundMessageReceived", "MessageFailed", "MessageSent"]


@dataclass(frozen=True, slots=True)
class InboundMessageReceived(DomainEvent):
    """A customer's SMS or WhatsApp message reached us (applied once per provider event).

    `address` is the sender's E.164 number; `opt_keyword` is the STOP/START keyword the whole message was, if
    any (campaigns count every other message as a reply). The topic name is a published contract: campaigns
    subscribe to it by name.
    """

    name: ClassVar[str] = "messaging.inbound_message_received"
    entity_type: ClassVar[str] = "inbound_message"
    entity_key: ClassVar[str] = "id"  # no integer id: the audit row has entity_id NULL
    channel: str  # sms | whatsapp
    address: str
    at: datetime
    provider_message_id: str
    opt_keyword: str | None = None


@dataclass(frozen=True, slots=True)
class MessageSent(DomainEvent):
    """A provider accepted a message about a case (recorded only when `case_id` is set): the case counts a contact."""

    name: ClassVar[str] = "messaging.message_sent"
    entity_type: ClassVar[str] = "message"
    entity_key: ClassVar[str] = "message_id"
    message_id: int
    case_id: int
    customer_id: int | None
    channel: str
    purpose: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class MessageFailed(DomainEvent):
    """A message about a case failed for good (at sending, or reported undelivered/failed by the provider):
    reminders fall back to the next channel."""

    name: ClassVar[str] = "messaging.message_failed"
    entity_type: ClassVar[str] = "message"
    entity_key: ClassVar[str] = "message_id"
    message_id: int
    case_id: int
    customer_id: int | None
    channel: str
    purpose: str | None
    error_code: str | None
    at: datetime
