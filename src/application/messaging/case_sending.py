"""The CaseMessenger port over messaging: other contexts' templated messages about a case, by template name.

The customer's address comes from the customer directory, the template from its name, channel and language (our
templates; a WhatsApp one is free text, so it goes only inside the 24-hour window and is refused outside it, which
lets a reminder fall back to SMS). Consent, quiet hours, rate limits and delivery are the ordinary send's.
"""

from __future__ import annotations

from collections.abc import Callable

from application.messaging.message_views import SendEmail, SendSms, SendWhatsApp
from application.messaging.ports import CustomerDirectory, MessagingUnitOfWork
from application.messaging.sending import SendingService
from application.ports.case_messages import CaseMessage, CaseMessenger, QueuedCaseMessage
from domain.messaging.model import Channel
from domain.shared.errors import Conflict, ValidationFailed
from domain.shared.ids import parse_public_id

__all__ = ["CaseMessageSender"]


class CaseMessageSender(CaseMessenger):
    def __init__(self, *, sending: SendingService, uow: Callable[[], MessagingUnitOfWork],
                 directory: CustomerDirectory) -> None:
        self._sending = sending
        self._uow = uow
        self._directory = directory

    async def queue(self, message: CaseMessage) -> QueuedCaseMessage:
        channel = Channel(message.channel)
        contact = await self._directory.contact(message.customer_id)
        address = None if contact is None else (contact.email if channel is Channel.EMAIL else contact.phone)
        if not address:
            wanted = "e-mail address" if channel is Channel.EMAIL else "phone number"
            return _refused("no_address", f"the customer has no {wanted}")
        async with self._uow() as uow:
            template = await uow.templates.find(message.template, channel, message.language)
            if template is None and message.language != "en":
                template = await uow.templates.find(message.template, channel, "en")
        if template is None or template.id is None or not template.is_active:
            return _refused("unknown_template", f"no active {channel.value} template named {message.template!r}")
        reference = f"template-{template.id}"
        values: dict[str, str | int | float] = dict(message.values)
        cmd: SendSms | SendEmail | SendWhatsApp
        if channel is Channel.SMS:
            cmd = SendSms(to=address, template_id=reference, parameters=values, customer_id=message.customer_id,
                          case_id=message.case_id, transactional=message.transactional)
        elif channel is Channel.EMAIL:
            cmd = SendEmail(to=address, template_id=reference, parameters=values, customer_id=message.customer_id,
                            case_id=message.case_id, transactional=message.transactional)
        else:
            cmd = SendWhatsApp(to=address, template_id=reference, parameters=values, customer_id=message.customer_id,
                               case_id=message.case_id)
        try:
            accepted = await self._sending.send_for_case(cmd, purpose=message.purpose,
                                                         idempotency_key=message.idempotency_key)
        except (ValidationFailed, Conflict) as exc:
            return _refused(exc.code, str(exc))
        return QueuedCaseMessage(status="queued", message_id=parse_public_id(accepted.message_id, "msg"))


def _refused(code: str, reason: str) -> QueuedCaseMessage:
    return QueuedCaseMessage(status="refused", code=code, reason=reason)
