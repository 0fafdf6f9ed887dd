"""Replies and conversions credited to campaign recipients, and the events that bring them.

Replies: the messaging context records `messaging.inbound_message_received` (channel, address, at, opt_keyword)
when it applies a customer's SMS or WhatsApp message; `subscribe` routes it to the job `campaigns.record_reply`,
which marks `replied_at` on the recipient of that channel and address sent most recently within `reply_window`
(7 days), once: a second message, or the job run twice, changes nothing. A message that is only an opt-out keyword
(STOP...) is not a reply. E-mail replies will arrive through the inbox issue: it should raise the same kind of event
(channel "email", the sender's address in lower case) and route it to the same job.

Conversions: a conversion is the recipient's renewal being paid within `conversion_window` (30 days) of the send.
The payments issue will raise `payments.renewal_paid` (`RenewalPaid`) with the payload
`{"customer_id": int, "policy_id": int | None, "paid_at": ISO 8601}`; `subscribe` already routes it to the job
`campaigns.record_conversion(customer_id, policy_id, at)`. Every campaign that messaged about that renewal in the
window is credited (each recipient once; the most recent campaign first), since one conversion rate per campaign
is what the analytics show. With no policy, the customer's recipients are credited.

Both events are subscribed to by their topic name (a published contract), so this module never imports the other
contexts; tests check the names against the events themselves.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from application.campaigns.ports import Attributions
from application.ports.uow import Job
from application.shared.events import EventRouter
from domain.shared.events import DomainEvent

__all__ = [
    "INBOUND_MESSAGE_RECEIVED", "RECORD_CONVERSION", "RECORD_REPLY", "RENEWAL_PAID", "AttributionService",
    "AttributionWindows", "conversion_job", "reply_job", "subscribe",
]

INBOUND_MESSAGE_RECEIVED = "messaging.inbound_message_received"  # domain.messaging.events.InboundMessageReceived
RENEWAL_PAID = "payments.renewal_paid"  # raised by the payments issue (RenewalPaid)
RECORD_REPLY = "campaigns.record_reply"
RECORD_CONVERSION = "campaigns.record_conversion"
_NOT_REPLIES = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})  # opt-out keywords


class AttributionWindows(msgspec.Struct, frozen=True, kw_only=True):
    reply_window: timedelta = timedelta(days=7)
    conversion_window: timedelta = timedelta(days=30)


class AttributionService:
    """Implements `ConversionRecorder`, and records replies."""

    def __init__(self, attributions: Attributions, windows: AttributionWindows | None = None) -> None:
        self._attributions = attributions
        self._windows = windows or AttributionWindows()

    async def record_reply(self, channel: str, address: str, at: datetime) -> int | None:
        """Mark the reply on the latest recipient of (channel, address) in the window; its id when this marked it."""
        found = await self._attributions.mark_replied(channel, address, sent_since=at - self._windows.reply_window,
                                                      at=at)
        return None if found is None else found.recipient_id

    async def record_conversion(self, customer_id: int, policy_id: int | None, at: datetime) -> int:
        marked = await self._attributions.mark_converted(customer_id, policy_id,
                                                         sent_since=at - self._windows.conversion_window, at=at)
        return len(marked)


def reply_job(event: DomainEvent) -> Job | None:
    """`campaigns.record_reply` for a customer's message that is not an opt-out keyword."""
    payload = event.payload()
    if payload.get("opt_keyword") in _NOT_REPLIES:
        return None
    reference = payload.get("provider_message_id") or f"{payload['channel']}-{payload['at']}"
    return Job(name=RECORD_REPLY, key=f"campaign-reply-{reference}",
               args={"channel": str(payload["channel"]), "address": str(payload["address"]),
                     "at": str(payload["at"])})


def conversion_job(event: DomainEvent) -> Job | None:
    """`campaigns.record_conversion` for a paid renewal."""
    payload: dict[str, Any] = event.payload()
    policy_id = payload.get("policy_id")
    return Job(name=RECORD_CONVERSION, args={
        "customer_id": int(payload["customer_id"]), "policy_id": None if policy_id is None else int(policy_id),
        "at": str(payload.get("paid_at") or payload["at"])})


def subscribe(router: EventRouter) -> None:
    router.subscribe(INBOUND_MESSAGE_RECEIVED, reply_job)
    router.subscribe(RENEWAL_PAID, conversion_job)
