"""Channel order with fallback: which channels a reminder step goes to, and what became of each.

A step's plan (`plan_channels`) lists its `channels` (role `fallback` when the step falls back, else `each`) and its
`always` channels. `dispatch` queues through the CaseMessenger: with fallback, the first channel not refused at
queue time (opt-out, no address, WhatsApp window closed...) is queued and the later ones are kept on `standby`;
`each` and `always` channels are all queued. `fall_back` answers a message that failed after queueing: the next
standby channel of that step is tried, once per failure (a channel is never tried twice).
"""

from __future__ import annotations

from typing import Any, Literal, cast

from application.ports.case_messages import CaseMessage, CaseMessenger
from application.reminders.ports import IN_FLIGHT, ReminderCandidate, ReminderSend
from domain.reminders.ladder import Step

__all__ = ["Dispatcher", "idempotency_key", "plan_channels", "settle"]

ChannelName = Literal["email", "sms", "whatsapp"]


def plan_channels(step: Step) -> list[dict[str, Any]]:
    role = "fallback" if step.fallback else "each"
    return ([{"channel": c, "role": role, "status": "planned"} for c in step.channels]
            + [{"channel": c, "role": "always", "status": "planned"} for c in step.always])


def idempotency_key(send: ReminderSend, channel: str) -> str:
    return f"reminder-{send.policy_id}-{send.term_end_date.isoformat()}-{send.offset_days}-{channel}"


def settle(send: ReminderSend) -> None:
    """The send's status from its channels: queued while any message is; else skipped (all refused) or failed."""
    if send.status not in (IN_FLIGHT, "skipped", "failed"):
        return
    entries = send.channels
    if any(e["status"] in ("queued", "planned") for e in entries):
        send.status, send.reason = IN_FLIGHT, None
        return
    send.status = "failed" if any(e["status"] == "failed" for e in entries) else "skipped"
    send.reason = "; ".join(f"{e['channel']}: {e.get('code') or e.get('reason') or e['status']}"
                            for e in entries if e["status"] in ("refused", "failed")) or "no channel to send to"


class Dispatcher:
    """`Dispatcher(messenger, renewal_link_base)`; the renewal link is the base + the policy number."""

    def __init__(self, messenger: CaseMessenger, renewal_link_base: str) -> None:
        self._messenger = messenger
        self._link_base = renewal_link_base

    async def dispatch(self, candidate: ReminderCandidate, send: ReminderSend) -> None:
        """Queue every planned channel of the send (see the module docstring) and settle its status."""
        covered = any(e["role"] == "fallback" and e["status"] == "queued" for e in send.channels)
        for entry in send.channels:
            if entry["status"] != "planned":
                continue
            if entry["role"] == "fallback" and covered:
                entry["status"] = "standby"
                continue
            await self._try(candidate, send, entry)
            covered = covered or (entry["role"] == "fallback" and entry["status"] == "queued")
        settle(send)

    async def fall_back(self, candidate: ReminderCandidate | None, send: ReminderSend, message_id: int,
                        error_code: str | None) -> bool:
        """Mark the message's channel failed and try the next standby channel; False when it was already handled."""
        entry = next((e for e in send.channels if e.get("messageId") == message_id), None)
        if entry is None or entry["status"] != "queued":
            return False
        entry["status"], entry["code"] = "failed", error_code or "failed"
        if entry["role"] == "fallback" and candidate is not None and send.status == IN_FLIGHT:
            for spare in send.channels:
                if spare["role"] == "fallback" and spare["status"] == "standby":
                    await self._try(candidate, send, spare)
                    if spare["status"] == "queued":
                        break
        settle(send)
        return True

    def message(self, candidate: ReminderCandidate, send: ReminderSend, channel: str) -> CaseMessage:
        values = {"customer_name": candidate.customer_name, "policy_number": candidate.policy_number,
                  "renewal_date": candidate.renewal_date.isoformat(),
                  "renewal_amount": f"{candidate.renewal_amount:.2f}",
                  "renewal_link": self._link_base + candidate.policy_number}
        return CaseMessage(channel=cast(ChannelName, channel), customer_id=candidate.customer_id,
                           case_id=candidate.case_id, template=send.template, values=values, purpose="reminder",
                           idempotency_key=idempotency_key(send, channel))

    async def _try(self, candidate: ReminderCandidate, send: ReminderSend, entry: dict[str, Any]) -> None:
        answer = await self._messenger.queue(self.message(candidate, send, entry["channel"]))
        if answer.status == "queued":
            entry.update(status="queued", messageId=answer.message_id)
        else:
            entry.update(status="refused", code=answer.code, reason=answer.reason)
