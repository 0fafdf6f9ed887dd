"""Parse what the providers post to our webhooks into small, provider-neutral records (no I/O, no signatures).

Followed:
- Twilio status callbacks: https://www.twilio.com/docs/messaging/guides/track-outbound-message-status and
  https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks: a form POST with
  `MessageSid`, `MessageStatus` (accepted, scheduled, queued, sending, sent, delivered, undelivered, failed, read,
  canceled), `ErrorCode` on failures, sometimes `RawDlrDoneDate` (YYMMDDhhmm, UTC). The status-callback URL we give
  Twilio carries our reference as `ref` (adapters.twilio.sms_sender.status_callback_with_reference).
- Twilio incoming messages: https://www.twilio.com/docs/messaging/guides/webhook-request (`MessageSid`, `From`,
  `To`, `Body`; WhatsApp senders are written `whatsapp:+E164`).
- WhatsApp Cloud API webhooks: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/
  reference/messages/status and .../messages/text: `object: whatsapp_business_account`, `entry[].changes[].value`
  with `statuses[]` (`id` = wamid, `status` sent/delivered/read/failed, `timestamp` unix seconds as a string,
  `errors[]`, `biz_opaque_callback_data` = our reference) and `messages[]` (`from` digits without `+`, `id`,
  `timestamp`, `type`, `text.body`).
- Amazon SES events through SNS: https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
  (`eventType`, or `notificationType` for identity feedback notifications; `mail.messageId` is the id SES returned
  at sending; `bounce.bounceType` Permanent/Transient/Undetermined, `bounce.bouncedRecipients[].emailAddress`,
  `complaint.complainedRecipients[]`, `delivery`/`open`/`click` timestamps) inside the SNS HTTP envelope
  https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html (`Type` Notification,
  SubscriptionConfirmation or UnsubscribeConfirmation; `Message` is the SES record as a JSON string).

Every parser raises PayloadError for a payload it cannot use; unknown extra fields are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from domain.messaging.delivery import MessageStatus
from domain.messaging.model import Channel

__all__ = [
    "TWILIO_STATUSES",
    "InboundText",
    "PayloadError",
    "SesEvent",
    "SnsEnvelope",
    "StatusReport",
    "WhatsAppNotification",
    "parse_ses_event",
    "parse_sns",
    "parse_twilio_inbound",
    "parse_twilio_status",
    "parse_whatsapp",
    "twilio_status_event_id",
]

# Twilio's message statuses, mapped to ours; None: not a delivery fact (inbound statuses)
TWILIO_STATUSES: dict[str, MessageStatus | None] = {
    "accepted": MessageStatus.QUEUED, "scheduled": MessageStatus.QUEUED, "queued": MessageStatus.QUEUED,
    "sending": MessageStatus.QUEUED, "sent": MessageStatus.SENT, "delivered": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED, "failed": MessageStatus.FAILED, "read": MessageStatus.READ,
    "canceled": MessageStatus.FAILED, "receiving": None, "received": None,
}
_WHATSAPP_STATUSES = {"sent": MessageStatus.SENT, "delivered": MessageStatus.DELIVERED,
                      "read": MessageStatus.READ, "failed": MessageStatus.FAILED}
_WHATSAPP_PREFIX = "whatsapp:"


class PayloadError(ValueError):
    """The payload is not one this parser understands (a field is missing or malformed)."""


class StatusReport(msgspec.Struct, frozen=True, kw_only=True):
    """A provider's word on one outbound message; `status` None means "nothing to record"."""

    provider_message_id: str | None
    reference: str | None  # our `msg-N`, when the provider echoes it
    status: MessageStatus | None
    at: datetime | None = None
    error_code: str | None = None
    error_text: str | None = None
    cost: Decimal | None = None
    currency: str | None = None


class InboundText(msgspec.Struct, frozen=True, kw_only=True):
    """A message a customer sent us."""

    channel: Channel
    sender: str  # E.164
    body: str
    provider_message_id: str
    recipient: str | None = None
    at: datetime | None = None


class WhatsAppNotification(msgspec.Struct, frozen=True, kw_only=True):
    statuses: tuple[StatusReport, ...] = ()
    messages: tuple[InboundText, ...] = ()

    @property
    def kind(self) -> str:
        """`inbound` when a customer wrote, `status` for receipts only, `other` for anything else."""
        return "inbound" if self.messages else "status" if self.statuses else "other"


class SnsEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    type: str  # Notification | SubscriptionConfirmation | UnsubscribeConfirmation
    message_id: str
    message: str
    topic_arn: str | None = None
    timestamp: datetime | None = None
    subscribe_url: str | None = None


class SesEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One SES sending event; `recipients` are the bounced or complaining addresses (lower case)."""

    event_type: str  # Bounce | Complaint | Delivery | Send | Reject | Open | Click | ...
    ses_message_id: str
    reference: str | None = None  # a `ref` message tag, when the sender set one
    at: datetime | None = None
    recipients: tuple[str, ...] = ()
    bounce_type: str | None = None
    bounce_subtype: str | None = None
    detail: str | None = None  # diagnostic code, complaint feedback type or reject reason

    @property
    def kind(self) -> str:
        """`bounce`, `complaint`, `delivery`, ...; SES's list-management `Subscription` event is
        `list_subscription`, apart from SNS's own subscription confirmations (`subscription`)."""
        kind = self.event_type.lower().replace(" ", "_")
        return "list_subscription" if kind == "subscription" else kind


# --- Twilio ---------------------------------------------------------------------------------------------------

def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise PayloadError(f"`{name}` is missing")
    return value


def _twilio_price(params: Mapping[str, str]) -> tuple[Decimal | None, str | None]:
    """Twilio writes prices negative (a charge); the cost is its absolute value."""
    raw = params.get("Price", "").strip()
    if not raw:
        return None, None
    try:
        price = abs(Decimal(raw))
    except InvalidOperation:
        return None, None
    if not price.is_finite():
        return None, None
    return price, (params.get("PriceUnit", "").strip().upper() or None)


def _dlr_done(raw: str | None) -> datetime | None:
    """`RawDlrDoneDate` (YYMMDDhhmm, UTC) as a datetime, or None."""
    text = (raw or "").strip()
    if len(text) != 10 or not text.isdigit():
        return None
    try:
        return datetime.strptime(text, "%y%m%d%H%M").replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_twilio_status(params: Mapping[str, str], reference: str | None = None) -> StatusReport:
    """A status callback's form (`reference`: the `ref` query parameter of the callback URL)."""
    sid = _required(params, "MessageSid")
    raw_status = _required(params, "MessageStatus").lower()
    if raw_status not in TWILIO_STATUSES:
        raise PayloadError(f"unknown Twilio message status {raw_status!r}")
    code = params.get("ErrorCode", "").strip()
    has_error = bool(code) and code != "0"
    text = params.get("ErrorMessage", "").strip() or (f"Twilio error {code}" if has_error else "")
    cost, currency = _twilio_price(params)
    return StatusReport(
        provider_message_id=sid, reference=(reference or "").strip() or None, status=TWILIO_STATUSES[raw_status],
        at=_dlr_done(params.get("RawDlrDoneDate")), error_code=f"twilio:{code}" if has_error else None,
        error_text=text or None, cost=cost, currency=currency)


def twilio_status_event_id(params: Mapping[str, str]) -> str:
    """`MessageSid:MessageStatus[:ErrorCode]`: one event per status of a message (Twilio sends no event id)."""
    parts = [_required(params, "MessageSid"), _required(params, "MessageStatus").lower()]
    code = params.get("ErrorCode", "").strip()
    if code:
        parts.append(code)
    return ":".join(parts)


def parse_twilio_inbound(params: Mapping[str, str]) -> InboundText:
    """An incoming-message webhook's form; a `whatsapp:` sender makes it a WhatsApp message."""
    sender = _required(params, "From")
    channel = Channel.SMS
    if sender.lower().startswith(_WHATSAPP_PREFIX):
        channel, sender = Channel.WHATSAPP, sender[len(_WHATSAPP_PREFIX):]
    recipient = params.get("To", "").strip()
    if recipient.lower().startswith(_WHATSAPP_PREFIX):
        recipient = recipient[len(_WHATSAPP_PREFIX):]
    return InboundText(channel=channel, sender=sender.strip(), body=params.get("Body", ""),
                       provider_message_id=_required(params, "MessageSid"), recipient=recipient or None)


# --- WhatsApp Cloud API ---------------------------------------------------------------------------------------

class _WaError(msgspec.Struct, kw_only=True):
    code: int | str | None = None
    title: str | None = None
    message: str | None = None
    error_data: dict[str, Any] | None = None


class _WaStatus(msgspec.Struct, kw_only=True):
    id: str
    status: str
    timestamp: str | int | None = None
    recipient_id: str | None = None
    biz_opaque_callback_data: str | None = None
    errors: list[_WaError] = []


class _WaText(msgspec.Struct, kw_only=True):
    body: str = ""


class _WaMessage(msgspec.Struct, kw_only=True, rename={"sender": "from"}):
    sender: str
    id: str
    timestamp: str | int | None = None
    type: str = "text"
    text: _WaText | None = None


class _WaValue(msgspec.Struct, kw_only=True):
    statuses: list[_WaStatus] = []
    messages: list[_WaMessage] = []


class _WaChange(msgspec.Struct, kw_only=True):
    value: _WaValue | None = None
    field: str | None = None


class _WaEntry(msgspec.Struct, kw_only=True):
    changes: list[_WaChange] = []


class _WaBody(msgspec.Struct, kw_only=True):
    object: str
    entry: list[_WaEntry] = []


def _unix(value: str | int | None) -> datetime | None:
    if value is None:
        return None
    try:
        seconds = int(value)
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _e164(digits: str) -> str:
    text = digits.strip()
    return text if text.startswith("+") else f"+{text}"


def _whatsapp_status(item: _WaStatus) -> StatusReport:
    status = _WHATSAPP_STATUSES.get(item.status.lower())
    code = text = None
    if item.errors:
        error = item.errors[0]
        details = (error.error_data or {}).get("details")
        code = f"whatsapp:{error.code}" if error.code is not None else None
        text = error.message or error.title or (details if isinstance(details, str) else None)
    return StatusReport(provider_message_id=item.id, reference=item.biz_opaque_callback_data, status=status,
                        at=_unix(item.timestamp), error_code=code, error_text=text)


def parse_whatsapp(body: object) -> WhatsAppNotification:
    """The decoded JSON of a WhatsApp Business Account webhook: its statuses and customers' messages."""
    try:
        parsed = msgspec.convert(body, _WaBody)
    except msgspec.ValidationError as exc:
        raise PayloadError(f"not a WhatsApp webhook: {exc}") from None
    if parsed.object != "whatsapp_business_account":
        raise PayloadError(f"unexpected webhook object {parsed.object!r}")
    statuses: list[StatusReport] = []
    messages: list[InboundText] = []
    for entry in parsed.entry:
        for change in entry.changes:
            if change.value is None:
                continue
            statuses.extend(_whatsapp_status(item) for item in change.value.statuses)
            for item in change.value.messages:
                body_text = item.text.body if item.text is not None else ""
                messages.append(InboundText(
                    channel=Channel.WHATSAPP, sender=_e164(item.sender), body=body_text, provider_message_id=item.id,
                    at=_unix(item.timestamp)))
    return WhatsAppNotification(statuses=tuple(statuses), messages=tuple(messages))


# --- Amazon SNS and SES ---------------------------------------------------------------------------------------

class _Sns(msgspec.Struct, kw_only=True, rename="pascal"):
    type: str
    message_id: str
    message: str = ""
    topic_arn: str | None = None
    timestamp: datetime | None = None
    subscribe_url: str | None = msgspec.field(default=None, name="SubscribeURL")


def parse_sns(body: object) -> SnsEnvelope:
    """The decoded JSON of an SNS HTTP(S) delivery."""
    try:
        parsed = msgspec.convert(body, _Sns)
    except msgspec.ValidationError as exc:
        raise PayloadError(f"not an SNS message: {exc}") from None
    return SnsEnvelope(type=parsed.type, message_id=parsed.message_id, message=parsed.message,
                       topic_arn=parsed.topic_arn, timestamp=parsed.timestamp, subscribe_url=parsed.subscribe_url)


class _SesRecipient(msgspec.Struct, kw_only=True, rename="camel"):
    email_address: str
    diagnostic_code: str | None = None


class _SesDetail(msgspec.Struct, kw_only=True, rename="camel"):
    """The `bounce`, `complaint`, `delivery`, `open`, `click` or `reject` object: the fields we read of each."""

    timestamp: datetime | None = None
    bounce_type: str | None = None
    bounce_sub_type: str | None = None
    bounced_recipients: list[_SesRecipient] = []
    complained_recipients: list[_SesRecipient] = []
    complaint_feedback_type: str | None = None
    complaint_sub_type: str | None = None
    reason: str | None = None  # reject


class _SesMail(msgspec.Struct, kw_only=True, rename="camel"):
    message_id: str
    timestamp: datetime | None = None
    tags: dict[str, list[str]] = {}


class _SesRecord(msgspec.Struct, kw_only=True, rename="camel"):
    mail: _SesMail
    event_type: str | None = None
    notification_type: str | None = None
    bounce: _SesDetail | None = None
    complaint: _SesDetail | None = None
    delivery: _SesDetail | None = None
    open: _SesDetail | None = None
    click: _SesDetail | None = None
    reject: _SesDetail | None = None


def parse_ses_event(message: str | bytes) -> SesEvent:
    """An SES event record (the SNS `Message`, a JSON string)."""
    try:
        record = msgspec.json.decode(message, type=_SesRecord)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise PayloadError(f"not an SES event: {exc}") from None
    event_type = record.event_type or record.notification_type
    if not event_type:
        raise PayloadError("`eventType` is missing")
    refs = record.mail.tags.get("ref") or []
    detail = (record.bounce or record.complaint or record.delivery or record.open or record.click or record.reject
              or _SesDetail())
    # Send and Reject happen when SES takes the message: their time is the mail's
    at = detail.timestamp or (record.mail.timestamp if event_type in ("Send", "Reject") else None)
    recipients = [*detail.bounced_recipients, *detail.complained_recipients]
    diagnostic = next((r.diagnostic_code for r in recipients if r.diagnostic_code), None)
    return SesEvent(
        event_type=event_type, ses_message_id=record.mail.message_id, reference=refs[0] if refs else None, at=at,
        recipients=tuple(r.email_address.strip().lower() for r in recipients), bounce_type=detail.bounce_type,
        bounce_subtype=detail.bounce_sub_type,
        detail=diagnostic or detail.complaint_feedback_type or detail.complaint_sub_type or detail.reason)
