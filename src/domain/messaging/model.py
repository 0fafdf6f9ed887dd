"""The messaging context's records: templates, outbound messages, consent, inbound provider events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.messaging.delivery import DeliveryTimes, MessageStatus, advance

__all__ = ["Channel", "Consent", "ConsentSource", "Message", "ProviderEvent", "Template", "WhatsAppTemplate"]


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"


class ConsentSource(StrEnum):
    """Where a consent decision came from."""

    STOP_KEYWORD = "stop_keyword"  # STOP / START by SMS or WhatsApp
    UNSUBSCRIBE_LINK = "unsubscribe_link"  # RFC 8058 one-click POST
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    MANUAL = "manual"  # a desk user
    IMPORT = "import"  # the upload's communication_preferences column


@dataclass
class Template:
    """A message template; `content` uses `{name}` variables, all declared in `variables`."""

    id: int | None
    name: str
    channel: Channel
    content: str
    variables: list[str] = field(default_factory=list)
    subject: str | None = None  # email only
    category: str | None = None  # renewal, reminder, payment, ...
    language: str = "en"
    is_active: bool = True
    dlt_template_id: str | None = None  # India DLT registration of an SMS template
    created_by: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class WhatsAppTemplate:
    """A WhatsApp Business template as Meta knows it (synchronised from its message_templates endpoint)."""

    id: int | None
    name: str
    language: str
    category: str
    status: str  # pending | approved | rejected | paused | disabled
    components: list[dict[str, object]] = field(default_factory=list)
    provider_id: str | None = None
    rejected_reason: str | None = None
    approved_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def approved(self) -> bool:
        return self.status == "approved"


@dataclass
class Message:
    """One outbound message on one channel (`msg-N`). Its status only moves forward (`delivery.advance`)."""

    id: int | None
    channel: Channel
    recipient: str  # an e-mail address, or an E.164 number
    body: str  # the rendered text (the plain-text part of an e-mail)
    status: MessageStatus = MessageStatus.QUEUED
    subject: str | None = None
    html: str | None = None
    customer_id: int | None = None
    case_id: int | None = None
    campaign_id: int | None = None
    template_id: int | None = None
    whatsapp_template: str | None = None  # an approved WhatsApp template's name, for sends outside the window
    whatsapp_language: str | None = None
    parameters: list[str] = field(default_factory=list)  # the WhatsApp template's body parameters, in order
    transactional: bool = False  # a receipt: sent even to an opted-out recipient
    purpose: str | None = None  # why it exists: reminder, payment_link, receipt, ... (None: a person or a campaign)
    # What delivery passes on besides the content: an e-mail's extra headers (`List-Unsubscribe`, ...); for SMS
    # and WhatsApp, the provider options `dlt_template_id`, `media_type`, `media_link` and `filename`.
    headers: dict[str, str] = field(default_factory=dict)
    provider: str | None = None
    provider_message_id: str | None = None
    error_code: str | None = None
    error_text: str | None = None
    cost: Decimal | None = None
    currency: str | None = None
    encoding: str | None = None  # SMS: GSM-7 or UCS-2
    segments: int | None = None  # SMS
    attempts: int = 0
    not_before: datetime | None = None  # quiet hours: not sent before this instant
    idempotency_key: str | None = None
    request_hash: str | None = None
    created_by: int | None = None
    times: dict[str, datetime] = field(default_factory=dict)  # first time each status was reported
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def report(self, status: str, at: datetime) -> bool:
        """Apply a status the provider reported (in any order, any number of times); True if it changed."""
        before = (self.status, dict(self.times))
        DeliveryTimes.record(self.times, status, at)
        self.status = advance(self.status, status)
        return (self.status, self.times) != before

    def fail(self, code: str, text: str, at: datetime) -> None:
        """A permanent failure at sending: failed at once with the provider's code."""
        self.error_code, self.error_text = code, text[:1000]
        self.report(MessageStatus.FAILED, at)

    @property
    def sent_at(self) -> datetime | None:
        return self.times.get("sent")

    @property
    def delivered_at(self) -> datetime | None:
        return self.times.get("delivered")

    @property
    def read_at(self) -> datetime | None:
        return self.times.get("read")


@dataclass
class Consent:
    """A recipient's decision for one channel; `address` is the e-mail (lower case) or the E.164 number."""

    channel: Channel
    address: str
    opted_in: bool
    source: ConsentSource
    reason: str | None = None
    customer_id: int | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ProviderEvent:
    """A webhook delivery as received, kept raw; `event_id` is the provider's own id (duplicates share it)."""

    provider: str  # twilio | whatsapp | ses
    event_id: str
    kind: str  # status | inbound | bounce | complaint | delivery | open | click | subscription
    payload: dict[str, object]
    received_at: datetime
    id: int | None = None
