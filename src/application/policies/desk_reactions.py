"""The desk's answers to other contexts' events (run as jobs, each idempotent).

- a message about a case was sent: one more communication attempt, last/first contact dates, `new` -> `contacted`
  (once per message id);
- a payment link was sent: the case becomes `payment_pending` when its status allows (once per payment);
- a payment was flagged (partial payment, amount mismatch...): a flag on the case; a partial payment also sets the
  case's payment status to partial (once per payment and code);
- a case was assigned: the assignee is told over the WebSocket (`case.assigned`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from application.policies.desk_common import move_case
from application.policies.desk_ports import CaseEvent, DeskUnitOfWork
from application.ports.user_events import UserEvents
from domain.policies.case_workflow import ALLOWED_MOVES
from domain.policies.model import CaseStatus, PaymentStatus, RenewalCase
from domain.shared.clock import Clock

__all__ = ["CASE_ASSIGNED_NOTICE", "DeskReactions"]

CASE_ASSIGNED_NOTICE = "case.assigned"


class DeskReactions:
    def __init__(self, *, uow: Callable[[], DeskUnitOfWork], clock: Clock,
                 user_events: Callable[[], UserEvents]) -> None:
        """`user_events` is resolved when a notice is sent (the Redis pool is opened after wiring)."""
        self._uow = uow
        self._clock = clock
        self._user_events = user_events

    async def record_contact(self, case_id: int, message_id: int, channel: str, purpose: str | None,
                             at: datetime) -> bool:
        """Count a sent message as a contact; False when the message was counted before or the case is gone."""
        async with self._uow() as uow:
            case = await uow.cases.get(case_id)
            if case is None or await uow.events.exists(case_id, "contacted", "messageId", str(message_id)):
                return False
            case.communication_attempts += 1
            if case.last_contact_date is None or at > case.last_contact_date:
                case.last_contact_date = at
            if case.first_contact_date is None or at < case.first_contact_date:
                case.first_contact_date = at
            rows = [CaseEvent(case_id=case_id, kind="contacted", actor_id=None, at=at,
                              summary=f"Customer contacted by {channel}" + (f" ({purpose})" if purpose else ""),
                              data={"messageId": str(message_id), "channel": channel, "purpose": purpose})]
            if case.status is CaseStatus.NEW:
                rows.append(move_case(case, CaseStatus.CONTACTED, actor_id=None, reason=None, at=at,
                                      extra={"messageId": str(message_id)}))
            await _save(uow, case, rows)
        return True

    async def mark_payment_pending(self, case_id: int, payment_id: int, channel: str, url: str,
                                   message_id: int | None, actor_id: int | None, at: datetime) -> bool:
        """Note the link on the timeline and move the case to payment_pending if allowed; False on a repeat."""
        async with self._uow() as uow:
            case = await uow.cases.get(case_id)
            if case is None or await uow.events.exists(case_id, "payment_link_sent", "paymentId", str(payment_id)):
                return False
            rows = [CaseEvent(case_id=case_id, kind="payment_link_sent", actor_id=actor_id, at=at,
                              summary=f"Payment link sent by {channel}",
                              data={"paymentId": str(payment_id), "channel": channel, "url": url,
                                    "messageId": None if message_id is None else str(message_id)})]
            if CaseStatus.PAYMENT_PENDING in ALLOWED_MOVES[case.status]:
                rows.append(move_case(case, CaseStatus.PAYMENT_PENDING, actor_id=actor_id, reason="payment link sent",
                                      at=at, extra={"paymentId": str(payment_id)}))
            await _save(uow, case, rows)
        return True

    async def flag(self, case_id: int, payment_id: int, code: str, message: str, at: datetime,
                   details: dict[str, Any] | None = None) -> bool:
        """Put a payment's problem on the case for a person; False when this payment already raised this code."""
        key = f"{payment_id}:{code}"
        async with self._uow() as uow:
            case = await uow.cases.get(case_id)
            if case is None or await uow.events.exists(case_id, "flagged", "flagKey", key):
                return False
            flag: dict[str, Any] = {"code": code, "message": message, "at": at.isoformat(),
                                    "paymentId": payment_id, **(details or {})}
            case.flags = [*case.flags, flag]
            if code == "partial_payment" and case.payment_status not in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
                case.payment_status = PaymentStatus.PARTIAL
            row = CaseEvent(case_id=case_id, kind="flagged", actor_id=None, at=at, summary=message,
                            data={"flagKey": key, **{k: v for k, v in flag.items() if k != "at"}})
            await _save(uow, case, [row])
        return True

    async def notify_assigned(self, case_id: int, assignee_id: int, actor_id: int | None, at: str) -> bool:
        """Tell the assignee over the WebSocket; nothing when the case has since gone to someone else."""
        async with self._uow() as uow:
            case = await uow.cases.get(case_id)
        if case is None or case.assigned_to != assignee_id:
            return False
        await self._user_events().publish(assignee_id, CASE_ASSIGNED_NOTICE, {
            "caseId": f"case-{case_id}", "caseNumber": case.case_number, "priority": case.priority.value,
            "status": case.status.value, "assignedBy": None if actor_id is None else f"user-{actor_id}",
            "assignedAt": at})
        return True


async def _save(uow: DeskUnitOfWork, case: RenewalCase, rows: list[CaseEvent]) -> None:
    await uow.cases.save(case)
    uow.track(case)
    await uow.events.append(rows)
    await uow.commit()
