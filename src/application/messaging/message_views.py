"""What the send endpoints accept and what they and the message lists answer (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec

from domain.messaging.delivery import MessageStatus
from domain.messaging.model import Message
from domain.shared.ids import CaseId, CustomerId, UserId

__all__ = [
    "DeliveryStatusView",
    "MessageView",
    "ParameterValue",
    "SendAccepted",
    "SendEmail",
    "SendSms",
    "SendWhatsApp",
    "parameter_text",
    "public_message_id",
]

ParameterValue = str | int | float | bool
Reference = str | int  # a public id such as `customer-3`, or the bare number


def parameter_text(value: ParameterValue) -> str:
    """A parameter as the text it is rendered as (`true`/`false` for booleans)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def public_message_id(message_id: int) -> str:
    return f"msg-{message_id}"


class SendSms(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Free text (`message`) or an SMS template (`templateId`, public id) with its `parameters`."""

    to: str
    message: str | None = None
    template_id: Reference | None = None
    parameters: dict[str, ParameterValue] | None = None
    customer_id: Reference | None = None
    case_id: Reference | None = None
    transactional: bool = False  # a receipt: sent to opted-out recipients and outside quiet hours
    dlt_template_id: str | None = None  # India DLT template id; defaults to the template's


class SendEmail(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """`subject` and `content` (HTML, or plain text), or an email template (`templateId`) with `parameters`."""

    to: str
    subject: str | None = None
    content: str | None = None
    template_id: Reference | None = None
    parameters: dict[str, ParameterValue] | None = None
    customer_id: Reference | None = None
    case_id: Reference | None = None
    transactional: bool = False


class SendWhatsApp(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """An approved template (`templateId`: its WhatsApp name, or our `template-N`), or, inside the 24-hour
    window only, free text (`message`) or a media message (`mediaUrl`, `mediaType`, `caption`, `filename`).
    With a template, `mediaUrl` fills the template's media header. `parameters` fill the template body in
    order: a list, or an object (keyed by the placeholders' names or numbers, else taken in its order)."""

    to: str
    template_id: Reference | None = None
    message: str | None = None
    parameters: dict[str, ParameterValue] | list[ParameterValue] | None = None
    language: str | None = None
    media_url: str | None = None
    media_type: Literal["image", "document"] | None = None
    filename: str | None = None
    caption: str | None = None
    customer_id: Reference | None = None
    case_id: Reference | None = None


class SendAccepted(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """The 202 answer: the message is queued; `deferredUntil` when quiet hours hold it back."""

    message_id: str
    status: str
    timestamp: datetime
    cost: Decimal | None  # known once the provider has sent it (GET delivery-status)
    deferred_until: datetime | None = None
    segments: int | None = None  # SMS
    encoding: str | None = None  # SMS: GSM-7 or UCS-2

    @classmethod
    def of(cls, message: Message, now: datetime) -> SendAccepted:
        """The answer to the request that created `message` (the same again for an idempotent replay)."""
        assert message.id is not None
        created = message.created_at or now
        deferred = message.not_before if message.not_before and message.not_before > created else None
        return cls(message_id=public_message_id(message.id), status=MessageStatus.QUEUED.value, timestamp=created,
                   cost=None, deferred_until=deferred, segments=message.segments, encoding=message.encoding)


class DeliveryStatusView(msgspec.Struct, kw_only=True, rename="camel"):
    message_id: str
    status: str
    channel: str
    to: str
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None
    error_code: str | None
    error_message: str | None
    cost: Decimal | None
    currency: str | None
    provider: str | None
    provider_message_id: str | None
    attempts: int
    deferred_until: datetime | None

    @classmethod
    def of(cls, message: Message) -> DeliveryStatusView:
        assert message.id is not None
        failed = message.times.get(MessageStatus.FAILED.value) or message.times.get(MessageStatus.UNDELIVERED.value)
        return cls(message_id=public_message_id(message.id), status=str(message.status), channel=str(message.channel),
                   to=message.recipient, sent_at=message.sent_at, delivered_at=message.delivered_at,
                   read_at=message.read_at, failed_at=failed, error_code=message.error_code,
                   error_message=message.error_text, cost=message.cost, currency=message.currency,
                   provider=message.provider, provider_message_id=message.provider_message_id,
                   attempts=message.attempts, deferred_until=message.not_before)


class MessageView(DeliveryStatusView, kw_only=True, rename="camel"):
    """One message as lists show it: its delivery status plus what was sent, to whom and why."""

    id: str
    subject: str | None
    body: str
    customer_id: CustomerId | None
    case_id: CaseId | None
    campaign_id: str | None
    template_id: str | None
    whatsapp_template: str | None
    transactional: bool
    encoding: str | None
    segments: int | None
    created_by: UserId | None
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, message: Message) -> MessageView:
        status = DeliveryStatusView.of(message)
        fields = {name: getattr(status, name) for name in DeliveryStatusView.__struct_fields__}
        return cls(
            **fields, id=status.message_id, subject=message.subject, body=message.body,
            customer_id=CustomerId(message.customer_id) if message.customer_id else None,
            case_id=CaseId(message.case_id) if message.case_id else None,
            campaign_id=f"campaign-{message.campaign_id}" if message.campaign_id else None,
            template_id=f"template-{message.template_id}" if message.template_id else None,
            whatsapp_template=message.whatsapp_template, transactional=message.transactional,
            encoding=message.encoding, segments=message.segments,
            created_by=UserId(message.created_by) if message.created_by else None,
            created_at=message.created_at, updated_at=message.updated_at)
