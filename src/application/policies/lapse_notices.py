"""Telling people a policy lapsed: the case's owner in the app (a notification and a WebSocket event), the
customer by e-mail (the `lapse_notice` template, a service message sent even to opted-out addresses)."""

from __future__ import annotations

from application.policies.ports import PoliciesReadModel
from application.ports.case_messages import CaseMessage, CaseMessenger
from application.ports.notifications import Notice, Notifications
from application.ports.user_events import UserEvents
from application.shared.visibility import EVERYTHING

__all__ = ["LapseNotifier"]


class LapseNotifier:
    def __init__(self, *, read_model: PoliciesReadModel, notifications: Notifications, user_events: UserEvents,
                 messenger: CaseMessenger, renewal_link_base: str) -> None:
        self._read = read_model
        self._notifications = notifications
        self._events = user_events
        self._messenger = messenger
        self._link_base = renewal_link_base

    async def notify(self, case_id: int, owner_id: int | None) -> bool:
        """Notify the owner (once) and queue the customer's notice (once); False for an unknown case."""
        case = await self._read.get_case(case_id, EVERYTHING)
        if case is None:
            return False
        data = {"caseId": f"case-{case_id}", "caseNumber": case.case_number, "policyNumber": case.policy_number,
                "customerName": case.customer_name}
        if owner_id is not None:
            stored = await self._notifications.notify(Notice(
                user_id=owner_id, type="case.lapsed", key=f"case-lapsed-{case_id}", priority="high", data=data,
                title=f"Policy {case.policy_number} lapsed",
                message=f"{case.customer_name}'s policy {case.policy_number} lapsed unpaid after its grace period "
                        f"(case {case.case_number})."))
            if stored:
                await self._events.publish(owner_id, "case.lapsed", data)
        await self._messenger.queue(CaseMessage(
            channel="email", customer_id=int(case.customer_id), case_id=case_id, template="lapse_notice",
            purpose="lapse_notice", idempotency_key=f"lapse-notice-{case_id}", transactional=True,
            values={"customer_name": case.customer_name, "policy_number": case.policy_number,
                    "expiry_date": case.term_end_date.isoformat(), "renewal_amount": f"{case.renewal_amount:.2f}",
                    "renewal_link": f"{self._link_base}{case.policy_number}"}))
        return True
