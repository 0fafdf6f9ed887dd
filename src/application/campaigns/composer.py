"""What a campaign sends and how a batch goes out: its templates compiled once per batch, one outbound message per
recipient, the sender port of its channel, and the delivery of a claimed batch (`Composer.deliver`: quiet hours,
the shared rate limit, a few sends in flight, each outcome written on its recipient).

The text is chosen as the tracking service reads it back (`application/campaigns/tracking.py`): the variant's
content, else the variant's template, else the campaign's content, else its template (the messaging context's,
read through `CampaignTemplates`); the subject likewise. Email content with tags is HTML (values escaped), with a
plain-text part derived from it once per template; without tags it is sent as plain text. SMS bodies and subjects
take values as they are (a subject's line breaks become spaces). WhatsApp sends the approved template named by the
campaign's template, its body parameters being the recipient's values of the template's `variables` in order
({{1}}, {{2}}, ...).

Tracking (when `TrackingLinks` is given): the links `tracked_links` finds in the unrendered text are replaced at
compile time by slots, `{__link_<i>}` (email hrefs) or `{__short_<i>}` (SMS), and HTML gets an `{__open}` pixel;
each recipient's slots are filled with URLs carrying signed tokens (recipient id, kind, link index: nothing
personal), so the tracking service finds link i again in the same list. A test send keeps the links as written.

Campaign e-mails (when `UnsubscribeLinks` is given) carry RFC 8058 one-click unsubscribe headers
(https://www.rfc-editor.org/rfc/rfc8058#section-3.1): `List-Unsubscribe: <url>` naming the messaging context's
`/api/unsubscribe/{token}` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. Test sends go without them (a
colleague's mail client must not unsubscribe the colleague). Recipients no longer `sending` when a batch is
delivered (opted out since launch: the engine decided them) are left alone.
"""

from __future__ import annotations

import asyncio
import html as html_module
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import msgspec

from application.campaigns.config import CampaignsConfig
from application.campaigns.engine_config import EngineConfig
from application.campaigns.ports import UnsubscribeLinks
from application.campaigns.tracking import TrackingKind, TrackingTokens, replace_links, tracked_links
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
from domain.campaigns.model import Campaign, Recipient, RecipientStatus
from domain.campaigns.render import Compiled, MissingValues, compile_template, one_line
from domain.shared.clock import Clock

__all__ = [
    "Batch", "CampaignTemplate", "CampaignTemplates", "CompiledCampaign", "Composer", "Outbound", "TrackingLinks",
    "text_of_html", "unsubscribe_headers",
]

Outbound = OutboundEmail | OutboundSms | OutboundWhatsApp
_REJECTED = (EmailRejected, SmsRejected, WhatsAppRejected)
_UNAVAILABLE = (EmailUnavailable, SmsUnavailable, WhatsAppUnavailable)
MAX_TRACKED_LINKS = 256  # a token carries the link index in one byte: later links are sent as written
_HAS_TAG = re.compile(r"<(?:/?[A-Za-z][^>]*|!--.*?--)>", re.DOTALL)
_HIDDEN = re.compile(r"<(script|style|head|title)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_BREAKS = re.compile(r"<br\s*/?>|</(?:p|div|h[1-6]|li|tr|table|blockquote)\s*>", re.IGNORECASE)


class CampaignTemplate(msgspec.Struct, frozen=True, kw_only=True):
    """A template as the engine needs it (the messaging context's `templates` row)."""

    channel: str
    content: str  # `{name}` variables
    subject: str | None = None  # email
    name: str | None = None  # WhatsApp: the approved template's name at Meta
    language: str = "en"
    variables: tuple[str, ...] = ()  # WhatsApp: the values filling {{1}}, {{2}}, ... in this order
    dlt_template_id: str | None = None  # SMS in India: the DLT registration


class CampaignTemplates(Protocol):
    async def get(self, template_id: int) -> CampaignTemplate | None: ...


def text_of_html(source: str) -> str:
    """A plain-text reading of HTML: hidden parts dropped, block ends as line breaks, tags removed, entities read."""
    text = html_module.unescape(_HAS_TAG.sub("", _BREAKS.sub("\n", _HIDDEN.sub("", source))))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True, slots=True)
class _Arm:
    """One variant's compiled text (or the campaign's own when it has no variants)."""

    body: Compiled  # email: the HTML or the plain text; SMS: the text
    subject: Compiled | None = None
    text: Compiled | None = None  # email with HTML: the plain-text part
    whatsapp: CampaignTemplate | None = None
    dlt_template_id: str | None = None
    clicks: int = 0  # tracked links of an email: slots `__link_<i>`
    shorts: int = 0  # tracked links of an SMS: slots `__short_<i>`
    pixel: bool = False  # the HTML carries the `__open` slot


@dataclass(frozen=True, slots=True)
class TrackingLinks:
    """What tracked messages need: the token signer and where the tracking endpoints are reached."""

    tokens: TrackingTokens
    urls: CampaignsConfig

    def slots(self, recipient_id: int, arm: _Arm) -> dict[str, str]:
        """The recipient's tracking slots: one URL per tracked link, and the open pixel's."""
        sign, urls = self.tokens.sign, self.urls
        found = {f"__link_{i}": urls.click_url(sign(recipient_id, TrackingKind.CLICK, i)) for i in range(arm.clicks)}
        for i in range(arm.shorts):
            found[f"__short_{i}"] = urls.short_url(sign(recipient_id, TrackingKind.SHORT_LINK, i))
        if arm.pixel:
            found["__open"] = urls.open_url(sign(recipient_id, TrackingKind.OPEN))
        return found


@dataclass(frozen=True, slots=True)
class CompiledCampaign:
    channel: str
    arms: dict[str | None, _Arm]
    email_from: str | None
    dlt_entity_id: str | None
    tracking: TrackingLinks | None
    unsubscribe: UnsubscribeLinks | None = None

    def message(self, recipient: Recipient, *, reference: str | None = None) -> Outbound:
        """The recipient's message; raises MissingValues when a variable has no value."""
        arm = self.arms.get(recipient.variant) or self.arms[None]
        values, ref = recipient.values, reference or recipient.reference
        if self.tracking is not None and recipient.id is not None and (arm.clicks or arm.shorts or arm.pixel):
            values = {**values, **self.tracking.slots(recipient.id, arm)}
        if self.channel == "email":
            subject = one_line(arm.subject.render(values)) if arm.subject is not None else ""
            headers = {} if self.unsubscribe is None else unsubscribe_headers(
                self.unsubscribe.url("email", recipient.address))
            if arm.text is None:
                return OutboundEmail(to=(recipient.address,), subject=subject, text=arm.body.render(values),
                                     from_address=self.email_from, headers=headers, tags={"reference": ref})
            return OutboundEmail(to=(recipient.address,), subject=subject, text=arm.text.render(values),
                                 html=arm.body.render(values, html=True), from_address=self.email_from,
                                 headers=headers, tags={"reference": ref})
        if self.channel == "sms":
            body = arm.body.render(values)
            return OutboundSms(to=recipient.address, body=body, reference=ref, dlt_entity_id=self.dlt_entity_id,
                               dlt_template_id=arm.dlt_template_id)
        template = arm.whatsapp
        if template is None or not template.name:
            raise MissingValues(["whatsapp_template"])
        missing = [name for name in template.variables if name not in values]
        if missing:
            raise MissingValues(missing)
        parameters = tuple(TemplateParameter(text=" ".join(values[name].split()) or "-")
                           for name in template.variables)
        return OutboundWhatsApp(to=recipient.address, kind="template", reference=ref, template_name=template.name,
                                language=template.language, body_parameters=parameters)


@dataclass
class Batch:
    """One batch in flight: the claims and what became of each."""

    claims: list[Recipient]
    lease_until: datetime
    started: datetime
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # opted out since launch: failed with `opted_out` before the send, not counted in `failed`
    checkpoint: int = 0  # the keyset position after this batch's claims
    deferred_until: datetime | None = None  # earliest quiet-hours opening among the put-back ones
    retry_in: float | None = None  # set when a transient error or the rate limit stopped the batch
    error: Exception | None = None  # an unexpected failure of a send: raised once the others are recorded


class Composer:
    """Compiles a campaign's text, sends one message, and delivers a claimed batch (quiet hours, rate limit,
    concurrency, the outcome of each send written on its recipient)."""

    def __init__(self, *, templates: CampaignTemplates, email: EmailSender, sms: SmsSender,
                 whatsapp: WhatsAppSender, config: EngineConfig, tracking: TrackingLinks | None, limiter: RateLimiter,
                 clock: Clock, provider_names: dict[str, str], unsubscribe: UnsubscribeLinks | None = None) -> None:
        self._templates = templates
        self._unsubscribe = unsubscribe
        self._email = email
        self._sms = sms
        self._whatsapp = whatsapp
        self._config = config
        self._tracking = tracking
        self._limiter = limiter
        self._clock = clock
        self._providers = provider_names

    async def compile(self, campaign: Campaign, *, tracked: bool = True) -> CompiledCampaign:
        """Every arm's text, compiled once (the campaign's own, and one per variant); `tracked` False keeps the
        links as written (a test send has no recipient to track)."""
        tracking = self._tracking if tracked else None
        own = await self._template(campaign.template_id)
        arms: dict[str | None, _Arm] = {
            None: _arm(campaign.channel, own, campaign.subject, campaign.content, tracking is not None)}
        for variant in campaign.variants:
            chosen = await self._template(variant.template_id)
            if variant.content is not None or chosen is not None:
                content = variant.content if variant.content is not None else chosen.content if chosen else None
            else:
                content = campaign.content
            subject = variant.subject or (chosen.subject if chosen is not None else None) or campaign.subject
            arms[variant.name] = _arm(campaign.channel, chosen or own, subject, content, tracking is not None)
        return CompiledCampaign(channel=campaign.channel, arms=arms, email_from=self._config.email_from,
                                dlt_entity_id=self._config.sms_dlt_entity_id, tracking=tracking,
                                unsubscribe=self._unsubscribe if tracked else None)

    async def _template(self, template_id: int | None) -> CampaignTemplate | None:
        return None if template_id is None else await self._templates.get(template_id)

    async def deliver(self, campaign: Campaign, batch: Batch) -> None:
        """Send the batch's claims (updating each recipient in place), `send_concurrency` at a time."""
        compiled = await self.compile(campaign)
        provider = self._providers.get(campaign.channel, campaign.channel)
        bucket, limit = f"{campaign.channel}:{provider}", self._config.limit_for(campaign.channel)
        margin = timedelta(seconds=self._config.lease_seconds * self._config.lease_margin)
        claimed = [r for r in batch.claims if r.status is RecipientStatus.SENDING]
        todo = iter(claimed)

        async def sender() -> None:
            for recipient in todo:
                now = self._clock.now()
                if batch.retry_in is not None or now >= batch.lease_until - margin:
                    _put_back(recipient)
                    continue
                if recipient.attempts > self._config.max_attempts:
                    _fail(recipient, "gave_up", f"claimed {recipient.attempts - 1} times without an answer")
                    batch.failed += 1
                    continue
                opening = self._config.quiet_hours.opens_at(now, recipient.values.get("timezone"))
                if opening > now:
                    _put_back(recipient)
                    batch.deferred_until = min(opening, batch.deferred_until or opening)
                    continue
                try:
                    message = compiled.message(recipient)
                except MissingValues as exc:
                    _fail(recipient, exc.code, str(exc))
                    batch.failed += 1
                    continue
                if not await self._limiter.acquire(bucket, limit, max_wait=self._config.limiter_max_wait):
                    batch.retry_in = max(1.0, self._config.limiter_max_wait)
                    _put_back(recipient)
                    continue
                try:
                    await self._send_one(recipient, message, batch)
                except Exception as exc:  # whether it left is unknown: its claim stays for reconciliation
                    batch.retry_in, batch.error = self._config.backoff(recipient.attempts), batch.error or exc

        workers = min(self._config.send_concurrency, len(claimed))
        await asyncio.gather(*(sender() for _ in range(workers)))

    async def _send_one(self, recipient: Recipient, message: Outbound, batch: Batch) -> None:
        try:
            provider_message_id = await self.send(message)
        except _REJECTED as exc:
            _fail(recipient, exc.code, str(exc))
            batch.failed += 1
        except _UNAVAILABLE as exc:
            wait = self._config.backoff(recipient.attempts, getattr(exc, "retry_after", None))
            batch.retry_in = max(batch.retry_in or 0.0, wait)
            if recipient.attempts >= self._config.max_attempts:
                _fail(recipient, "gave_up", f"gave up after {recipient.attempts} attempts; last: {exc.code}: {exc}")
                batch.failed += 1
            else:
                recipient.status, recipient.lease_until = RecipientStatus.PENDING, None
                recipient.error_code, recipient.error_message = exc.code, str(exc)[:1000]
        else:
            recipient.status, recipient.lease_until = RecipientStatus.SENT, None
            recipient.provider_message_id, recipient.sent_at = provider_message_id, self._clock.now()
            recipient.error_code = recipient.error_message = None
            batch.sent += 1

    async def send(self, message: Outbound) -> str:
        """Hand `message` to its channel's port; the provider's message id. Raises the port's errors."""
        if isinstance(message, OutboundEmail):
            if not message.subject:
                raise EmailRejected("the campaign has no subject", code="missing_subject")
            return (await self._email.send(message)).provider_message_id
        if isinstance(message, OutboundSms):
            return (await self._sms.send(message)).provider_message_id
        return (await self._whatsapp.send(message)).provider_message_id


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe headers for `url`."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _arm(channel: str, template: CampaignTemplate | None, subject: str | None, content: str | None,
         tracked: bool) -> _Arm:
    if channel == "whatsapp":
        return _Arm(body=compile_template(""), whatsapp=template)
    text = content if content is not None else (template.content if template is not None else "")
    if channel == "sms":
        shorts = min(MAX_TRACKED_LINKS, len(tracked_links(text, "sms"))) if tracked else 0
        body = replace_links(text, "sms", lambda i: f"{{__short_{i}}}" if i < shorts else None) if shorts else text
        return _Arm(body=compile_template(body), shorts=shorts,
                    dlt_template_id=template.dlt_template_id if template else None)
    title = subject if subject is not None else (template.subject if template is not None else None)
    subject_template = compile_template(title or "")
    if _HAS_TAG.search(text) is None:
        return _Arm(body=compile_template(text), subject=subject_template)
    plain = compile_template(text_of_html(text))
    if not tracked:
        return _Arm(body=compile_template(text), subject=subject_template, text=plain)
    clicks = min(MAX_TRACKED_LINKS, len(tracked_links(text, "email")))
    html = replace_links(text, "email", lambda i: f"{{__link_{i}}}" if i < clicks else None)
    return _Arm(body=compile_template(_with_pixel(html)), subject=subject_template, text=plain, clicks=clicks,
                pixel=True)


def _with_pixel(html: str) -> str:
    """The HTML with the open pixel's slot before its last `</body>`, or at the end."""
    pixel = '<img src="{__open}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">'
    at = html.lower().rfind("</body")
    return html[:at] + pixel + html[at:] if at >= 0 else html + pixel


def _put_back(recipient: Recipient) -> None:
    """Unclaim a recipient that was not sent: pending again, the claim not counted as an attempt."""
    recipient.status, recipient.lease_until = RecipientStatus.PENDING, None
    recipient.attempts = max(0, recipient.attempts - 1)


def _fail(recipient: Recipient, code: str, text: str) -> None:
    recipient.status, recipient.lease_until = RecipientStatus.FAILED, None
    recipient.error_code, recipient.error_message = code, text[:1000]
