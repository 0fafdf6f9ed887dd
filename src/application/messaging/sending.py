"""Sending: validate a send request, check consent and the WhatsApp rules, render it, queue it for delivery.

The API answers 202 once the message and its `messaging.deliver` outbox job are committed in one transaction;
the worker sends it (`delivery.DeliveryService`). Free text (`message`, `content`) is rendered like a template,
with `parameters` filling its `{name}` variables (write `{{` and `}}` for literal braces). One-click unsubscribe
headers follow RFC 8058 (https://www.rfc-editor.org/rfc/rfc8058): `List-Unsubscribe: <https://...>` plus
`List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
"""

from __future__ import annotations

import builtins
import hashlib
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import msgspec

from application.messaging.config import MessagingConfig
from application.messaging.consent_policy import ConsentPolicy, UnsubscribeTokens
from application.messaging.errors import IdempotencyKeyReused, MessageNotFound, RecipientOptedOut, UnknownTemplate
from application.messaging.message_views import (
    DeliveryStatusView,
    MessageView,
    SendAccepted,
    SendEmail,
    SendSms,
    SendWhatsApp,
    parameter_text,
    public_message_id,
)
from application.messaging.ports import CustomerContact, CustomerDirectory, MessageFilters, MessagingUnitOfWork
from application.messaging.whatsapp_sending import WhatsAppComposer
from application.ports.uow import Job
from application.shared.pagination import Page, PageRequest
from domain.messaging.model import Channel, Message, Template
from domain.messaging.sms_encoding import sms_encoding
from domain.messaging.templates import MissingTemplateValues, RenderedEmail, render_email, render_text
from domain.shared.clock import Clock
from domain.shared.contact import PhoneNumberNormaliser, normalise_email
from domain.shared.errors import Conflict, FieldError, ValidationFailed
from domain.shared.ids import parse_public_id

__all__ = ["DELIVER_MESSAGE", "Draft", "FieldProblems", "SendingService"]

DELIVER_MESSAGE = "messaging.deliver"
MAX_SMS_CHARACTERS = 1600  # Twilio's limit for one message body (it splits it into segments)
MAX_SUBJECT = 500
MAX_IDEMPOTENCY_KEY = 255
T = TypeVar("T")
Command = TypeVar("Command", SendSms, SendEmail, SendWhatsApp)
_BLANK = re.compile(r"\s*")


class FieldProblems:
    """Collects every refused field; a single specialised refusal keeps its own code (e.g. whatsapp_window_closed)."""

    def __init__(self) -> None:
        self.refusals: builtins.list[ValidationFailed] = []

    def check(self, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except ValidationFailed as exc:
            self.refusals.append(exc)
            return None

    def render(self, fn: Callable[[], T]) -> T | None:
        """Run a rendering; missing values become one `parameters` error naming them all."""
        try:
            return fn()
        except MissingTemplateValues as exc:
            self.add("parameters", f"missing values for {', '.join(exc.names)}")
            return None

    def add(self, field_name: str, message: str) -> None:
        self.refusals.append(ValidationFailed.on(field_name, message))

    def refuse(self, refusal: ValidationFailed) -> None:
        self.refusals.append(refusal)

    def raise_if_invalid(self) -> None:
        if len(self.refusals) == 1:
            raise self.refusals[0]
        if self.refusals:
            raise ValidationFailed([detail for refusal in self.refusals for detail in refusal.details])


@dataclass
class Draft:
    """What is known of a send request before its channel's own rules run."""

    problems: FieldProblems
    address: str | None  # normalised; None when invalid
    contact: CustomerContact | None
    now: datetime
    deliver_at: datetime  # `now`, or when quiet hours end
    transactional: bool
    values: dict[str, str] = field(default_factory=dict)


class SendingService:
    def __init__(self, *, uow: Callable[[], MessagingUnitOfWork], clock: Clock, directory: CustomerDirectory,
                 phones: PhoneNumberNormaliser, config: MessagingConfig, consent: ConsentPolicy,
                 tokens: UnsubscribeTokens) -> None:
        self._uow = uow
        self._clock = clock
        self._directory = directory
        self._phones = phones
        self._config = config
        self._consent = consent
        self._tokens = tokens
        self._whatsapp = WhatsAppComposer(config.whatsapp_window_hours)

    async def send_sms(self, cmd: SendSms, user_id: int | None, idempotency_key: str | None) -> SendAccepted:
        return await self._send(Channel.SMS, cmd, user_id, idempotency_key, self._compose_sms)

    async def send_email(self, cmd: SendEmail, user_id: int | None, idempotency_key: str | None) -> SendAccepted:
        return await self._send(Channel.EMAIL, cmd, user_id, idempotency_key, self._compose_email)

    async def send_whatsapp(self, cmd: SendWhatsApp, user_id: int | None,
                            idempotency_key: str | None) -> SendAccepted:
        return await self._send(Channel.WHATSAPP, cmd, user_id, idempotency_key, self._whatsapp.compose)

    async def status(self, message_id: int) -> DeliveryStatusView:
        async with self._uow() as uow:
            message = await uow.messages.get(message_id)
        if message is None:
            raise MessageNotFound(message_id)
        return DeliveryStatusView.of(message)

    async def list(self, filters: MessageFilters, page: PageRequest) -> Page[MessageView]:
        """Messages matching `filters`; a `recipient` is compared as stored (e-mail lower case, phone in E.164)."""
        if filters.recipient is not None:
            filters = msgspec.structs.replace(filters, recipient=self._stored_address(filters.recipient))
        async with self._uow() as uow:
            found = await uow.messages.list(filters, page)
        return Page(items=[MessageView.of(m) for m in found.items], page=found.page, limit=found.limit,
                    total=found.total, total_is_estimate=found.total_is_estimate)

    def _stored_address(self, raw: str) -> str:
        text = raw.strip()
        try:
            return normalise_email(text) if "@" in text else self._phones.to_e164(text)
        except ValidationFailed:
            return text

    # --- the common path -------------------------------------------------------------------------------------

    async def send_for_case(self, cmd: SendSms | SendEmail | SendWhatsApp, *, purpose: str,
                            idempotency_key: str) -> SendAccepted:
        """A system send about a case (reminder, payment link, receipt): the same checks, marked with `purpose`."""
        if isinstance(cmd, SendSms):
            return await self._send(Channel.SMS, cmd, None, idempotency_key, self._compose_sms, purpose)
        if isinstance(cmd, SendEmail):
            return await self._send(Channel.EMAIL, cmd, None, idempotency_key, self._compose_email, purpose)
        return await self._send(Channel.WHATSAPP, cmd, None, idempotency_key, self._whatsapp.compose, purpose)

    async def _send(self, channel: Channel, cmd: Command, user_id: int | None, idempotency_key: str | None,
                    compose: Callable[[MessagingUnitOfWork, Command, Draft], Awaitable[Message | None]],
                    purpose: str | None = None) -> SendAccepted:
        key = _idempotency_key(idempotency_key)
        request_hash = _request_hash(channel, cmd)
        if key is not None and (replay := await self._replay(user_id, key, request_hash)) is not None:
            return replay
        async with self._uow() as uow:
            draft = await self._draft(channel, cmd)
            message = await compose(uow, cmd, draft)
            draft.problems.raise_if_invalid()
            assert message is not None and draft.address is not None
            if not draft.transactional:
                allowed, reason = await self._consent.allowed(uow, channel, draft.address, draft.contact)
                if not allowed:
                    raise RecipientOptedOut(channel.value, draft.address, reason)
            message.customer_id = draft.contact.customer_id if draft.contact else None
            message.case_id = _reference(cmd.case_id, "case", "caseId")
            message.transactional = draft.transactional
            message.purpose = purpose
            message.not_before = draft.deliver_at if draft.deliver_at > draft.now else None
            message.created_by, message.idempotency_key, message.request_hash = user_id, key, request_hash
            try:
                message = await uow.messages.add(message)
                assert message.id is not None
                uow.outbox.add(Job(name=DELIVER_MESSAGE, args={"message_id": message.id},
                                   key=f"message-{message.id}"))
                await uow.commit()
            except Conflict as exc:
                if key is None or exc.field != "idempotencyKey":
                    raise
                message = None  # a concurrent request with the same key won: answer as it did
        if message is None:
            assert key is not None
            replay = await self._replay(user_id, key, request_hash)
            if replay is None:
                raise Conflict("the message could not be stored; try again")
            return replay
        return SendAccepted.of(message, draft.now)

    async def _replay(self, user_id: int | None, key: str, request_hash: str) -> SendAccepted | None:
        async with self._uow() as uow:
            first = await uow.messages.find_by_idempotency_key(user_id, key)
        if first is None:
            return None
        assert first.id is not None
        if first.request_hash != request_hash:
            raise IdempotencyKeyReused.of(key, public_message_id(first.id))
        return SendAccepted.of(first, self._clock.now())

    async def _draft(self, channel: Channel, cmd: SendSms | SendEmail | SendWhatsApp) -> Draft:
        problems = FieldProblems()
        if channel is Channel.EMAIL:
            address = problems.check(lambda: normalise_email(cmd.to, field="to"))
        else:
            address = problems.check(lambda: self._phones.to_e164(cmd.to, field="to"))
        customer_id = problems.check(lambda: _reference(cmd.customer_id, "customer", "customerId"))
        problems.check(lambda: _reference(cmd.case_id, "case", "caseId"))
        contact: CustomerContact | None = None
        if customer_id is not None:
            contact = await self._directory.contact(customer_id)
            if contact is None:
                problems.add("customerId", f"customer-{customer_id} does not exist")
        elif address is not None:
            contact = await self._directory.by_address(channel, address)
        transactional = not isinstance(cmd, SendWhatsApp) and cmd.transactional
        now = self._clock.now()
        timezone = (contact.timezone if contact else None) or self._config.default_timezone
        deliver_at = now if transactional else self._config.quiet_hours.next_allowed(now, timezone)
        given = {name: parameter_text(v) for name, v in cmd.parameters.items()} \
            if isinstance(cmd.parameters, Mapping) else {}
        values = {**_contact_values(contact), **given}  # the customer's own details fill what was not given
        return Draft(problems=problems, address=address, contact=contact, now=now, deliver_at=deliver_at,
                     transactional=transactional, values=values)

    # --- channels --------------------------------------------------------------------------------------------

    async def _compose_sms(self, uow: MessagingUnitOfWork, cmd: SendSms, draft: Draft) -> Message | None:
        problems = draft.problems
        if (cmd.message is None) == (cmd.template_id is None):
            problems.add("message", "give either message (free text) or templateId, not both")
            return None
        template = await _template(uow, cmd.template_id, Channel.SMS, problems)
        source = template.content if template else cmd.message
        if source is None:
            return None
        body = problems.render(lambda: render_text(source, draft.values))
        if body is None:
            return None
        if _BLANK.fullmatch(body):
            problems.add("message", "must not be blank")
        elif len(body) > MAX_SMS_CHARACTERS:
            problems.add("message", f"is {len(body)} characters long; at most {MAX_SMS_CHARACTERS}")
        encoding = sms_encoding(body)
        dlt_template_id = cmd.dlt_template_id or (template.dlt_template_id if template else None)
        return Message(id=None, channel=Channel.SMS, recipient=draft.address or "", body=body,
                       template_id=template.id if template else None, encoding=encoding.encoding,
                       segments=encoding.segments,
                       headers={"dlt_template_id": dlt_template_id} if dlt_template_id else {})

    async def _compose_email(self, uow: MessagingUnitOfWork, cmd: SendEmail, draft: Draft) -> Message | None:
        problems = draft.problems
        subject, content = cmd.subject, cmd.content
        if cmd.template_id is not None:
            if content is not None:
                problems.add("content", "give either content or templateId, not both")
            template = await _template(uow, cmd.template_id, Channel.EMAIL, problems)
            if template is None:
                return None
            subject, content = subject or template.subject, template.content
        else:
            template = None
            if content is None or _BLANK.fullmatch(content):
                problems.add("content", "give content (HTML or plain text) or templateId")
        if subject is None or _BLANK.fullmatch(subject):
            problems.add("subject", "is required" + (" (the template has none)" if template else ""))
        if subject is None or content is None:
            return None
        rendered: RenderedEmail | None = problems.render(lambda: render_email(subject, content, draft.values))
        if rendered is None:
            return None
        if len(rendered.subject) > MAX_SUBJECT:
            problems.add("subject", f"must be at most {MAX_SUBJECT} characters")
        headers: dict[str, str] = {}
        if draft.address is not None and not draft.transactional:
            link = self._config.unsubscribe_url(self._tokens.sign(Channel.EMAIL.value, draft.address))
            headers = {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        return Message(id=None, channel=Channel.EMAIL, recipient=draft.address or "", body=rendered.text,
                       subject=rendered.subject, html=rendered.html, template_id=template.id if template else None,
                       headers=headers)


async def _template(uow: MessagingUnitOfWork, reference: str | int | None, channel: Channel,
                    problems: FieldProblems) -> Template | None:
    """Our template `template-N` for `channel`, active; None (and a field error) otherwise."""
    if reference is None:
        return None
    number = parse_public_id(reference, "template")
    if number is None:
        problems.add("templateId", "is not a valid template id (template-N)")
        return None
    template = await uow.templates.get(number)
    if template is None or template.channel is not channel:
        problems.refuse(UnknownTemplate.named(f"template-{number}", f" for {channel.value}"))
        return None
    if not template.is_active:
        problems.add("templateId", f"template-{number} is inactive")
    return template


def _reference(value: str | int | None, prefix: str, field_name: str) -> int | None:
    if value is None:
        return None
    number = parse_public_id(value, prefix)
    if number is None:
        raise ValidationFailed.on(field_name, f"is not a valid {prefix} id")
    return number


def _idempotency_key(raw: str | None) -> str | None:
    key = (raw or "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed([FieldError("Idempotency-Key", f"must be at most {MAX_IDEMPOTENCY_KEY} characters")])
    return key or None


def _request_hash(channel: Channel, cmd: SendSms | SendEmail | SendWhatsApp) -> str:
    """The request's fingerprint: its channel and decoded body, keys sorted (so the JSON key order is irrelevant)."""
    body = msgspec.json.encode(cmd, order="sorted")
    return hashlib.sha256(channel.value.encode() + b"\n" + body).hexdigest()


def _contact_values(contact: CustomerContact | None) -> dict[str, str]:
    """Template values known from the customer: their name (as `name`, `customer_name`, `first_name`)."""
    if contact is None or not contact.name.strip():
        return {}
    name = contact.name.strip()
    return {"name": name, "customer_name": name, "first_name": name.split()[0]}
