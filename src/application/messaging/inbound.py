"""Provider events in: keep each webhook delivery raw (once), then apply it in the worker (once).

`record` runs in the webhook request: it stores the event keyed by (provider, the provider's event id) and queues
`messaging.apply_provider_event` in the same transaction; a duplicate delivery stores and queues nothing.
`apply` runs in the worker: it marks the event processed first, so a job run twice has one effect, then
- delivery statuses move the message forward (`Message.report`: repeated or late receipts change nothing); a
  failure keeps the provider's error code and text; Twilio's price becomes the cost;
- customers' messages are recorded as `InboundMessageReceived` events (campaigns count replies from them) and
  open WhatsApp's 24-hour window; STOP keywords opt the number out of that channel
  (source `stop_keyword`), START / UNSTOP opt it back in, YES only undoes an opt-out;
- SES: a permanent bounce suppresses the address (source `bounce`) and every bounce leaves the message
  `undelivered`; a complaint suppresses the address (source `complaint`); Delivery, Open and Click move the
  message to delivered / read; Send to sent; Reject fails it.
Times come from the payload when it has them, else from when the event was received.
SNS subscription confirmations are confirmed by the worker: `subscription_url` hands it the URL to visit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from application.messaging.case_outcomes import record_case_outcome
from application.messaging.consent import record_decision
from application.messaging.ports import CustomerDirectory, MessagingUnitOfWork
from application.messaging.provider_payloads import (
    InboundText,
    PayloadError,
    SesEvent,
    StatusReport,
    parse_ses_event,
    parse_sns,
    parse_twilio_inbound,
    parse_twilio_status,
    parse_whatsapp,
)
from application.ports.uow import Job
from domain.messaging.delivery import FAILURES, MessageStatus
from domain.messaging.events import InboundMessageReceived
from domain.messaging.model import Channel, Consent, ConsentSource, Message, ProviderEvent
from domain.shared.clock import Clock
from domain.shared.events import EventRecorder
from domain.shared.ids import parse_public_id

__all__ = [
    "APPLY_PROVIDER_EVENT",
    "OPT_IN_KEYWORDS",
    "STOP_KEYWORDS",
    "SUBSCRIPTION_KIND",
    "InboundService",
    "confirm_subscription_url",
    "keyword_of",
]

APPLY_PROVIDER_EVENT = "messaging.apply_provider_event"
STOP_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
_RESTORE_ONLY = frozenset({"YES"})  # a common answer to anything: it only undoes an opt-out
SUBSCRIPTION_KIND = "subscription"  # the kind an SNS SubscriptionConfirmation is recorded as


def keyword_of(body: str) -> str | None:
    """The opt-out or opt-in keyword the whole message is (trimmed, any case), else None."""
    word = body.strip().upper()
    return word if word in STOP_KEYWORDS or word in OPT_IN_KEYWORDS else None


def confirm_subscription_url(payload: Mapping[str, Any], host_allowed: Callable[[str], bool]) -> str | None:
    """The `SubscribeURL` of an SNS SubscriptionConfirmation, if it is an https ConfirmSubscription URL on a host
    `host_allowed` accepts (an Amazon SNS host); None otherwise."""
    if payload.get("Type") != "SubscriptionConfirmation":
        return None
    url = payload.get("SubscribeURL")
    if not isinstance(url, str) or not url.isascii() or any(char.isspace() for char in url):
        return None
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme != "https" or host is None or parts.username is not None or port not in (None, 443):
        return None
    if not host_allowed(host) or parse_qs(parts.query).get("Action") != ["ConfirmSubscription"]:
        return None
    return url


class InboundService:
    def __init__(self, uow: Callable[[], MessagingUnitOfWork], clock: Clock, directory: CustomerDirectory) -> None:
        self._uow = uow
        self._clock = clock
        self._directory = directory

    async def record(self, provider: str, event_id: str, kind: str, payload: dict[str, object]) -> bool:
        """Keep a webhook delivery and queue its application; False (and nothing queued) for a duplicate."""
        event = ProviderEvent(provider=provider, event_id=event_id, kind=kind, payload=payload,
                              received_at=self._clock.now())
        async with self._uow() as uow:
            stored = await uow.provider_events.record(event)
            if stored is None or stored.id is None:
                return False
            uow.outbox.add(Job(name=APPLY_PROVIDER_EVENT, args={"event_id": stored.id},
                               key=f"provider-event-{stored.id}"))
            await uow.commit()
        return True

    async def subscription_url(self, event_id: int, host_allowed: Callable[[str], bool]) -> str | None:
        """For an unprocessed SNS SubscriptionConfirmation: the URL the worker must GET before `apply`."""
        async with self._uow() as uow:
            event = await uow.provider_events.get(event_id)
        if event is None or event.kind != SUBSCRIPTION_KIND:
            return None
        return confirm_subscription_url(event.payload, host_allowed)

    async def apply(self, event_id: int) -> None:
        """Apply a recorded event once; payloads that cannot be parsed are marked processed and left alone."""
        async with self._uow() as uow:
            if not await uow.provider_events.mark_processed(event_id, self._clock.now()):
                return
            event = await uow.provider_events.get(event_id)
            # an unparseable payload stays for inspection: retrying would not parse it better
            if event is not None:
                with suppress(PayloadError):
                    await self._apply(uow, event)
            await uow.commit()

    async def _apply(self, uow: MessagingUnitOfWork, event: ProviderEvent) -> None:
        payload = event.payload
        if event.provider == "twilio":
            params = _strings(payload.get("params"))
            if event.kind == "status":
                ref = payload.get("ref")
                await self._status(uow, parse_twilio_status(params, ref if isinstance(ref, str) else None),
                                   event.received_at)
            elif event.kind == "inbound":
                await self._inbound(uow, parse_twilio_inbound(params), event.received_at)
        elif event.provider == "whatsapp":
            notification = parse_whatsapp(payload)
            for report in notification.statuses:
                await self._status(uow, report, event.received_at)
            for text in notification.messages:
                await self._inbound(uow, text, event.received_at)
        elif event.provider == "ses":
            envelope = parse_sns(payload)
            if envelope.type == "Notification":
                await self._ses(uow, parse_ses_event(envelope.message), envelope.timestamp or event.received_at)

    # --- delivery statuses --------------------------------------------------------------------------------------

    async def _find(self, uow: MessagingUnitOfWork, provider_message_id: str | None,
                    reference: str | None) -> Message | None:
        if provider_message_id:
            message = await uow.messages.find_by_provider_id(provider_message_id)
            if message is not None:
                return message
        number = parse_public_id(reference, "msg") if reference and reference.startswith("msg-") else None
        if number is None:
            return None
        message = await uow.messages.get_for_update(number)
        if message is not None and message.provider_message_id is None and provider_message_id:
            message.provider_message_id = provider_message_id  # the send crashed before it stored the id
        return message

    async def _status(self, uow: MessagingUnitOfWork, report: StatusReport, received_at: datetime) -> None:
        if report.status is None:
            return
        message = await self._find(uow, report.provider_message_id, report.reference)
        if message is None:
            return  # not one of ours (or already deleted): nothing to update
        before = MessageStatus(message.status)
        _report(message, report.status, report.at or received_at, report.error_code, report.error_text)
        if report.cost is not None:
            message.cost, message.currency = report.cost, report.currency or message.currency
        await uow.messages.save(message)
        record_case_outcome(uow, message, before, received_at)

    # --- customers' messages ------------------------------------------------------------------------------------

    async def _inbound(self, uow: MessagingUnitOfWork, text: InboundText, received_at: datetime) -> None:
        at = text.at or received_at
        if text.channel is Channel.WHATSAPP:
            await uow.windows.touch(text.sender, at)
        keyword = keyword_of(text.body)
        received = EventRecorder()  # campaigns count it as a reply (campaigns.record_reply, routed by name)
        received.record(InboundMessageReceived(channel=text.channel.value, address=text.sender, at=at,
                                               provider_message_id=text.provider_message_id, opt_keyword=keyword))
        uow.track(received)
        if keyword is None:
            return
        opted_in = keyword in OPT_IN_KEYWORDS
        if keyword in _RESTORE_ONLY:
            current = await uow.consents.get(text.channel, text.sender)
            if current is None or current.opted_in:
                return
        contact = await self._directory.by_address(text.channel, text.sender)
        await record_decision(uow, Consent(
            channel=text.channel, address=text.sender, opted_in=opted_in, source=ConsentSource.STOP_KEYWORD,
            reason=f"replied {keyword}", customer_id=contact.customer_id if contact else None, updated_at=at))

    # --- SES events ---------------------------------------------------------------------------------------------

    async def _ses(self, uow: MessagingUnitOfWork, event: SesEvent, fallback_at: datetime) -> None:
        at = event.at or fallback_at
        if event.event_type == "Bounce" and event.bounce_type == "Permanent":
            await self._suppress(uow, event.recipients, ConsentSource.BOUNCE, event.bounce_subtype or "bounce", at)
        elif event.event_type == "Complaint":
            await self._suppress(uow, event.recipients, ConsentSource.COMPLAINT, event.detail or "complaint", at)
        outcome = _SES_OUTCOMES.get(event.event_type)
        if outcome is None:
            return
        message = await self._find(uow, event.ses_message_id, event.reference)
        if message is None:
            return
        code = text = None
        if event.event_type == "Bounce":
            code = f"ses:bounce:{event.bounce_type or 'Undetermined'}:{event.bounce_subtype or 'General'}"
            text = event.detail or f"{event.bounce_type} bounce ({event.bounce_subtype})"
        elif event.event_type == "Reject":
            code, text = "ses:reject", event.detail or "rejected by SES"
        before = MessageStatus(message.status)
        _report(message, outcome, at, code, text)
        await uow.messages.save(message)
        record_case_outcome(uow, message, before, at)

    async def _suppress(self, uow: MessagingUnitOfWork, addresses: tuple[str, ...], source: ConsentSource,
                        reason: str, at: datetime) -> None:
        for address in dict.fromkeys(addresses):
            contact = await self._directory.by_address(Channel.EMAIL, address)
            await record_decision(uow, Consent(
                channel=Channel.EMAIL, address=address, opted_in=False, source=source, reason=reason,
                customer_id=contact.customer_id if contact else None, updated_at=at))


_ARRIVED = frozenset({MessageStatus.DELIVERED, MessageStatus.READ})
_SES_OUTCOMES = {
    "Send": MessageStatus.SENT, "Delivery": MessageStatus.DELIVERED, "Open": MessageStatus.READ,
    "Click": MessageStatus.READ, "Bounce": MessageStatus.UNDELIVERED, "Reject": MessageStatus.FAILED,
}


def _report(message: Message, status: MessageStatus, at: datetime, code: str | None, text: str | None) -> None:
    """Report `status`. A failure that is (now) the message's status leaves its error code and text; a delivery
    or read receipt proves earlier failure reports stale and clears them. Either way the outcome does not depend
    on the order the reports arrive in."""
    message.report(status, at)
    if message.status in _ARRIVED:
        message.error_code = message.error_text = None
    elif status in FAILURES and message.status == status and (code or text):
        message.error_code = code or message.error_code
        message.error_text = (text or "")[:1000] or message.error_text


def _strings(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise PayloadError("`params` is missing")
    return {str(key): str(item) for key, item in value.items()}
