"""The in-memory twin of the reminder candidates read model: open, unpaid cases over the MemoryStore's tables."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from adapters.memory.store import MemoryStore
from application.reminders.ports import STOPPED_POLICY_STATUSES, ReminderCandidate
from domain.policies.model import PaymentStatus, RenewalCase

__all__ = ["InMemoryReminderCandidates"]


class InMemoryReminderCandidates:
    """Implements `ReminderCandidates`; `InMemoryReminderCandidates(store, business_timezone)`."""

    def __init__(self, store: MemoryStore, business_timezone: str) -> None:
        self._store = store
        self._tz = ZoneInfo(business_timezone)

    async def due(self, today: date, *, after_case_id: int, limit: int,
                  earliest_offset: int) -> list[ReminderCandidate]:
        found: list[ReminderCandidate] = []
        for case_id in sorted(self._store.tables.cases):
            if case_id <= after_case_id:
                continue
            candidate = self._candidate(self._store.tables.cases[case_id])
            if candidate is None or candidate.renewal_date > today - timedelta(days=earliest_offset) \
                    or candidate.renewal_date + timedelta(days=candidate.grace_days) < today:
                continue
            found.append(candidate)
            if len(found) == limit:
                break
        return found

    async def get(self, case_id: int) -> ReminderCandidate | None:
        case = self._store.tables.cases.get(case_id)
        return None if case is None else self._candidate(case)

    def _candidate(self, case: RenewalCase) -> ReminderCandidate | None:
        tables = self._store.tables
        policy = tables.policies.get(case.policy_id)
        if case.is_closed or case.payment_status == PaymentStatus.PAID or policy is None \
                or policy.status in STOPPED_POLICY_STATUSES:
            return None
        customer = tables.customers[policy.customer_id]
        assert case.id is not None and case.created_at is not None
        sent = frozenset(s.offset_days for s in tables.reminder_sends.values()
                         if (s.policy_id, s.term_end_date) == (case.policy_id, case.term_end_date))
        return ReminderCandidate(
            case_id=case.id, policy_id=case.policy_id, customer_id=policy.customer_id,
            term_end_date=case.term_end_date, policy_type=policy.policy_type, policy_number=policy.policy_number,
            customer_name=f"{customer.first_name} {customer.last_name}".strip(), renewal_date=policy.renewal_date,
            renewal_amount=case.renewal_amount, grace_days=policy.grace_period_days,
            first_seen=case.created_at.astimezone(self._tz).date(), sent=sent)
