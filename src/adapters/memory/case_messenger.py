"""An in-memory CaseMessenger: records what was queued; refuses what a test told it to refuse."""

from __future__ import annotations

import itertools

from application.ports.case_messages import CaseMessage, CaseMessenger, QueuedCaseMessage

__all__ = ["InMemoryCaseMessenger"]


class InMemoryCaseMessenger(CaseMessenger):
    def __init__(self) -> None:
        self.queued: list[tuple[int, CaseMessage]] = []
        self._ids = itertools.count(1)
        self._by_key: dict[str, QueuedCaseMessage] = {}
        # (channel, customer id) -> (code, reason): sends there are refused
        self.refusals: dict[tuple[str, int], tuple[str, str]] = {}

    def refuse(self, channel: str, customer_id: int, code: str = "recipient_opted_out",
               reason: str = "the recipient opted out") -> None:
        self.refusals[(channel, customer_id)] = (code, reason)

    async def queue(self, message: CaseMessage) -> QueuedCaseMessage:
        if (answer := self._by_key.get(message.idempotency_key)) is not None:
            return answer
        refusal = self.refusals.get((message.channel, message.customer_id))
        if refusal is not None and not message.transactional:
            return QueuedCaseMessage(status="refused", code=refusal[0], reason=refusal[1])
        message_id = next(self._ids)
        self.queued.append((message_id, message))
        answer = QueuedCaseMessage(status="queued", message_id=message_id)
        self._by_key[message.idempotency_key] = answer
        return answer

    def of_case(self, case_id: int) -> list[CaseMessage]:
        return [m for _, m in self.queued if m.case_id == case_id]
