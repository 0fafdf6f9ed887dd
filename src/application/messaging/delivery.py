"""Delivery: the worker's side of a send. One queued message in, one provider call (at most) out.

`deliver` locks the message, so two workers never send it twice, and only a `queued` message is sent: running
the job again after it was sent (or failed) is a no-op. Each provider bucket (`sms:twilio`, `email:ses` ...) is a
shared token bucket, so every worker process together stays under the provider's rate. Transient errors (5xx,
429, timeouts: the ports' *Unavailable) retry with capped exponential backoff and jitter, never sooner than the
provider's `Retry-After`; permanent errors (*Rejected) fail the message at once with the provider's code; after
`max_attempts` provider calls the message fails `gave_up`.
"""

from __future__ import annotations

import random as random_module
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

import msgspec

from application.messaging.case_outcomes import record_case_outcome
from application.messaging.config import MessagingConfig
from application.messaging.consent_policy import ConsentPolicy
from application.messaging.message_views import public_message_id
from application.messaging.ports import CaseGate, CustomerContact, CustomerDirectory, MessagingUnitOfWork
from application.ports.email import EmailRejected, EmailSender, EmailUnavailable, OutboundEmail
from application.ports.rate_limits import RateLimiter
from application.ports.sms import OutboundSms, SmsRejected, SmsSender, SmsUnavailable
from application.ports.whatsapp import (
    OutboundWhatsApp,
    TemplateParameter,
    WhatsAppRejected,
    WhatsAppSender,
    WhatsAppUnavailable,
)
from domain.messaging.delivery import MessageStatus
from domain.messaging.model import Channel, Message
from domain.shared.clock import Clock

__all__ = ["DeliveryOutcome", "DeliveryService", "backoff_seconds"]

Outcome = Literal["sent", "failed", "retry", "deferred", "skipped"]
_REJECTED = (EmailRejected, SmsRejected, WhatsAppRejected)
_UNAVAILABLE = (EmailUnavailable, SmsUnavailable, WhatsAppUnavailable)


class DeliveryOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What the worker does next: nothing (sent, failed, skipped), or run the job again in `retry_in` seconds
    (retry: the provider or the rate limit said not now; deferred: quiet hours)."""

    outcome: Outcome
    retry_in: float | None = None
    detail: str | None = None


def backoff_seconds(attempts: int, config: MessagingConfig, random: Callable[[], float],
                    retry_after: float | None = None) -> float:
    """The wait before attempt `attempts + 1`: base * 2^(attempts-1) capped, half of it jittered, and never less
    than the provider's `retry_after`."""
    ceiling = min(config.backoff_cap_seconds, config.backoff_base_seconds * 2.0 ** max(0, attempts - 1))
    jittered = ceiling / 2 + random() * ceiling / 2
    return max(jittered, retry_after or 0.0)


class DeliveryService:
    def __init__(self, *, uow: Callable[[], MessagingUnitOfWork], clock: Clock, email: EmailSender, sms: SmsSender,
                 whatsapp: WhatsAppSender, limiter: RateLimiter, config: MessagingConfig, consent: ConsentPolicy,
                 directory: CustomerDirectory, provider_names: dict[str, str],
                 random: Callable[[], float] = random_module.random, cases: CaseGate | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._email = email
        self._sms = sms
        self._whatsapp = whatsapp
        self._limiter = limiter
        self._config = config
        self._consent = consent
        self._directory = directory
        self._providers = provider_names
        self._random = random
        self._cases = cases

    async def deliver(self, message_id: int) -> DeliveryOutcome:
        async with self._uow() as uow:
            message = await uow.messages.get_for_update(message_id)
            if message is None:
                return DeliveryOutcome(outcome="skipped", detail=f"{public_message_id(message_id)} does not exist")
            if message.status is not MessageStatus.QUEUED:
                return DeliveryOutcome(outcome="skipped", detail=f"already {message.status}")
            now = self._clock.now()
            before = MessageStatus(message.status)
            contact = None if message.transactional else await self._contact(message)
            opening = self._opening(message, contact, now)
            if opening > now:
                return DeliveryOutcome(outcome="deferred", retry_in=(opening - now).total_seconds(),
                                       detail="quiet hours")
            refusal = await self._refusal(uow, message, contact)
            if refusal is not None:
                code, text = refusal
                message.fail(code, text, now)
                await self._save(uow, message, before)
                return DeliveryOutcome(outcome="failed", detail=code)
            provider = self._providers.get(message.channel.value, message.channel.value)
            bucket = f"{message.channel.value}:{provider}"
            limit = self._config.limit_for(message.channel)
            if not await self._limiter.acquire(bucket, limit, max_wait=self._config.limiter_max_wait):
                return DeliveryOutcome(outcome="retry", retry_in=self._config.limiter_max_wait,
                                       detail=f"rate limit of {bucket}")
            outcome = await self._send(message, provider)
            await self._save(uow, message, before)
            return outcome

    def _opening(self, message: Message, contact: CustomerContact | None, now: datetime) -> datetime:
        """When the message may go: its `not_before`, and (unless transactional) inside the recipient's quiet
        hours again, since a retry or a backlog can bring it to the worker late in the evening."""
        opening = max(now, message.not_before or now)
        if message.transactional:
            return opening
        timezone = (contact.timezone if contact else None) or self._config.default_timezone
        return self._config.quiet_hours.next_allowed(opening, timezone)

    async def _refusal(self, uow: MessagingUnitOfWork, message: Message,
                       contact: CustomerContact | None) -> tuple[str, str] | None:
        """(code, text) when the message may no longer go: a reminder whose case closed (paid, renewed, lost...),
        the recipient opted out, or the WhatsApp window of a free-text message closed while it waited."""
        if message.purpose == "reminder" and message.case_id is not None and self._cases is not None:
            closed = await self._cases.closed_status(message.case_id)
            if closed is not None:
                return "case_closed", f"the case is {closed}: its reminders stopped"
        if not message.transactional:
            allowed, reason = await self._consent.allowed(uow, message.channel, message.recipient, contact)
            if not allowed:
                return "opted_out", f"{message.recipient} does not accept {message.channel} messages: {reason}"
        if message.channel is Channel.WHATSAPP and message.whatsapp_template is None:
            last = await uow.windows.last_inbound(message.recipient)
            hours = self._config.whatsapp_window_hours
            if last is None or (self._clock.now() - last).total_seconds() >= hours * 3600:
                return "whatsapp_window_closed", f"the {hours}-hour window closed before the message could be sent"
        return None

    async def _contact(self, message: Message) -> CustomerContact | None:
        if message.customer_id is not None:
            return await self._directory.contact(message.customer_id)
        return await self._directory.by_address(message.channel, message.recipient)

    async def _send(self, message: Message, provider: str) -> DeliveryOutcome:
        """Call the provider once and record the result on `message` (not saved)."""
        now = self._clock.now()
        message.provider = provider
        message.attempts += 1
        try:
            status = await self._call(message)
        except _REJECTED as exc:
            message.fail(exc.code, str(exc), now)
            return DeliveryOutcome(outcome="failed", detail=exc.code)
        except _UNAVAILABLE as exc:
            retry_after = getattr(exc, "retry_after", None)
            if message.attempts >= self._config.max_attempts:
                message.fail("gave_up", f"gave up after {message.attempts} attempts; last: {exc.code}: {exc}", now)
                return DeliveryOutcome(outcome="failed", detail="gave_up")
            message.error_code, message.error_text = exc.code, str(exc)[:1000]
            wait = backoff_seconds(message.attempts, self._config, self._random, retry_after)
            return DeliveryOutcome(outcome="retry", retry_in=wait, detail=exc.code)
        message.error_code = message.error_text = None
        message.report(status, now)
        return DeliveryOutcome(outcome="sent")

    async def _call(self, message: Message) -> str:
        """Send through the channel's port; returns the first status (`sent`, or `queued` at the provider)."""
        reference = public_message_id(message.id or 0)
        if message.channel is Channel.EMAIL:
            sent_email = await self._email.send(OutboundEmail(
                to=(message.recipient,), subject=message.subject or "", text=message.body, html=message.html,
                from_address=self._config.email_from, headers=dict(message.headers),
                tags={"reference": reference}))
            message.provider_message_id = sent_email.provider_message_id
            return MessageStatus.SENT.value
        if message.channel is Channel.SMS:
            sent_sms = await self._sms.send(OutboundSms(
                to=message.recipient, body=message.body, reference=reference,
                dlt_entity_id=self._config.sms_dlt_entity_id,
                dlt_template_id=message.headers.get("dlt_template_id")))
            message.provider_message_id = sent_sms.provider_message_id
            message.segments = sent_sms.segments or message.segments
            message.cost, message.currency = _money(sent_sms.cost), sent_sms.currency
            return sent_sms.status if sent_sms.status in ("queued", "sent") else MessageStatus.SENT.value
        sent_whatsapp = await self._whatsapp.send(_outbound_whatsapp(message, reference))
        message.provider_message_id = sent_whatsapp.provider_message_id
        return MessageStatus.SENT.value

    async def _save(self, uow: MessagingUnitOfWork, message: Message, before: MessageStatus) -> None:
        await uow.messages.save(message)
        record_case_outcome(uow, message, before, self._clock.now())
        await uow.commit()


def _outbound_whatsapp(message: Message, reference: str) -> OutboundWhatsApp:
    link, media_type = message.headers.get("media_link"), message.headers.get("media_type")
    filename = message.headers.get("filename")
    if message.whatsapp_template is not None:
        header = (TemplateParameter(type="document" if media_type == "document" else "image", link=link,
                                    filename=filename),) if link else ()
        return OutboundWhatsApp(to=message.recipient, kind="template", reference=reference,
                                template_name=message.whatsapp_template, language=message.whatsapp_language,
                                header_parameters=header,
                                body_parameters=tuple(TemplateParameter(text=p) for p in message.parameters))
    if link:
        return OutboundWhatsApp(to=message.recipient, kind="document" if media_type == "document" else "image",
                                reference=reference, media_link=link, caption=message.body or None,
                                filename=filename)
    return OutboundWhatsApp(to=message.recipient, kind="text", reference=reference, text=message.body)


def _money(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None
