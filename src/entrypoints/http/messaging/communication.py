"""Outbound messages: /api/communication/* (the specification's paths, plus email/send and the message list).

Sends answer 202 once the message is queued (api.md, "Sends"); the worker sends it. `Idempotency-Key` makes a
send safe to retry: the same key and body answer the first response again, another body is a 422.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter

from application.identity.principal import Principal
from application.messaging.message_views import (
    DeliveryStatusView,
    MessageView,
    SendAccepted,
    SendEmail,
    SendSms,
    SendWhatsApp,
)
from application.messaging.ports import MessageFilters
from application.messaging.sending import SendingService
from domain.identity.permissions import Permission as P
from domain.messaging.delivery import MessageStatus
from domain.messaging.model import Channel
from domain.shared.errors import ValidationFailed
from domain.shared.ids import parse_public_id
from entrypoints.http.deps import container_of
from entrypoints.http.envelope import Envelope, Pagination, error_responses, ok, pagination_of
from entrypoints.http.guard import principal_of, requires
from entrypoints.http.ids import path_id
from entrypoints.http.lists import enum_values, page_request
from entrypoints.http.params import Csv, Limit, Page, Sort

__all__ = ["CommunicationController", "MessageList"]

Sending = NamedDependency[SendingService]
Caller = NamedDependency[Principal]
IdempotencyKey = Annotated[str | None, HeaderParameter(
    name="Idempotency-Key", description="Any unique text (a UUID): retrying with the same key and body answers the "
                                        "first response again; another body with that key is a 422")]
MessageIdent = Annotated[str, PathParameter(description="Public id such as `msg-12`, or the bare number")]
MESSAGE_SORT = ("createdAt", "updatedAt")


class MessageList(msgspec.Struct, kw_only=True):
    messages: list[MessageView]
    pagination: Pagination


def _sending(state: State) -> SendingService:
    service: SendingService = container_of(state).messaging.sending()
    return service


def _reference(raw: str | None, prefix: str, field: str) -> int | None:
    if raw is None or not raw.strip():
        return None
    number = parse_public_id(raw, prefix)
    if number is None:
        raise ValidationFailed.on(field, f"'{raw}' is not a valid {prefix} id")
    return number


def _day_start(day: date | None, *, next_day: bool = False) -> datetime | None:
    """Midnight UTC at the start of `day` (of the day after, for an inclusive upper bound)."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1 if next_day else 0), time.min, UTC)


class CommunicationController(Controller):
    path = "/api/communication"
    tags = ["communication"]
    dependencies = {"sending": Provide(_sending, sync_to_thread=False),
                    "principal": Provide(principal_of, sync_to_thread=False)}

    @post("/whatsapp/send", opt=requires(P.MESSAGES_SEND), status_code=202,
          responses=error_responses(400, 409, 422))
    async def send_whatsapp(self, data: JSONBody[SendWhatsApp], sending: Sending, principal: Caller,
                            idempotency_key: IdempotencyKey = None) -> Envelope[SendAccepted]:
        """Queue a WhatsApp message: an approved template (by its WhatsApp name or our `template-N`) at any time,
        free text or media only within 24 hours of the customer's last message. 409 when the recipient has not
        opted in (or opted out); 422 `whatsapp_window_closed`, `whatsapp_template_not_approved`."""
        return ok(await sending.send_whatsapp(data, principal.user_id, idempotency_key))

    @post("/sms/send", opt=requires(P.MESSAGES_SEND), status_code=202, responses=error_responses(400, 409, 422))
    async def send_sms(self, data: JSONBody[SendSms], sending: Sending, principal: Caller,
                       idempotency_key: IdempotencyKey = None) -> Envelope[SendAccepted]:
        """Queue an SMS (free text or an SMS template); the answer gives its encoding and segment count. Outside
        the recipient's quiet hours it waits (`deferredUntil`) unless `transactional`."""
        return ok(await sending.send_sms(data, principal.user_id, idempotency_key))

    @post("/email/send", opt=requires(P.MESSAGES_SEND), status_code=202, responses=error_responses(400, 409, 422))
    async def send_email(self, data: JSONBody[SendEmail], sending: Sending, principal: Caller,
                         idempotency_key: IdempotencyKey = None) -> Envelope[SendAccepted]:
        """Queue an e-mail (HTML `content` and `subject`, or an email template); it carries a one-click
        unsubscribe link unless `transactional`."""
        return ok(await sending.send_email(data, principal.user_id, idempotency_key))

    @get("/delivery-status/{message_id:str}", opt=requires(P.MESSAGES_SEND), responses=error_responses(404))
    async def delivery_status(self, message_id: MessageIdent, sending: Sending) -> Envelope[DeliveryStatusView]:
        """Where one message is: queued, sent, delivered, read, failed or undelivered, with times and errors."""
        return ok(await sending.status(path_id(message_id, "msg")))

    @get("/messages", opt=requires(P.MESSAGES_SEND), responses=error_responses(422),
         description=f"Sort whitelist: {', '.join(MESSAGE_SORT)}; default `-createdAt`.")
    async def list_messages(
        self, sending: Sending, page: Page = 1, limit: Limit = 20, sort: Sort = None,
        channel: Csv = None, status: Csv = None,
        customer: Annotated[str | None, QueryParameter(description="A customer id (`customer-3`)")] = None,
        case: Annotated[str | None, QueryParameter(description="A case id (`case-4`)")] = None,
        campaign: Annotated[str | None, QueryParameter(description="A campaign id (`campaign-2`)")] = None,
        recipient: Annotated[str | None, QueryParameter(description="An e-mail address or phone number")] = None,
        created_from: Annotated[date | None, QueryParameter(name="from", description="Created on or after (UTC)")]
        = None,
        created_to: Annotated[date | None, QueryParameter(name="to", description="Created on or before (UTC)")]
        = None,
    ) -> Envelope[MessageList]:
        """Outbound messages, newest first, filtered by channel, status, customer, case, campaign, recipient or
        creation date."""
        request = page_request(page, limit, sort, MESSAGE_SORT, "-createdAt")
        filters = MessageFilters(
            channels=tuple(Channel(c) for c in enum_values(channel, Channel, "channel")),
            statuses=enum_values(status, MessageStatus, "status"),
            customer_id=_reference(customer, "customer", "customer"), case_id=_reference(case, "case", "case"),
            campaign_id=_reference(campaign, "campaign", "campaign"),
            recipient=recipient.strip() if recipient and recipient.strip() else None,
            created_from=_day_start(created_from), created_to=_day_start(created_to, next_day=True))
        result = await sending.list(filters, request)
        return ok(MessageList(messages=result.items, pagination=pagination_of(result)))
