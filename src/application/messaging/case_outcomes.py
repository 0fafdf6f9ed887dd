"""What the other contexts hear about messages sent about a case: sent (a contact) or failed (try another channel)."""

from __future__ import annotations

from datetime import datetime

from application.messaging.ports import MessagingUnitOfWork
from domain.messaging.delivery import FAILURES, MessageStatus
from domain.messaging.events import MessageFailed, MessageSent
from domain.messaging.model import Message
from domain.shared.events import EventRecorder

__all__ = ["record_case_outcome"]


def record_case_outcome(uow: MessagingUnitOfWork, message: Message, before: MessageStatus, at: datetime) -> None:
    """Record MessageSent when a case's message left `queued` for a non-failure, MessageFailed when it (first)
    became a failure; nothing for messages without a case or when the status did not cross either line."""
    if message.case_id is None or message.id is None:
        return
    after = MessageStatus(message.status)
    facts = EventRecorder()
    if before is MessageStatus.QUEUED and after is not MessageStatus.QUEUED and after not in FAILURES:
        facts.record(MessageSent(message_id=message.id, case_id=message.case_id, customer_id=message.customer_id,
                                 channel=message.channel.value, purpose=message.purpose,
                                 at=message.times.get("sent") or at))
    if after in FAILURES and before not in FAILURES:
        facts.record(MessageFailed(message_id=message.id, case_id=message.case_id, customer_id=message.customer_id,
                                   channel=message.channel.value, purpose=message.purpose,
                                   error_code=message.error_code, at=at))
    uow.track(facts)
