"""Renewal and lapse: a recorded payment moves the policy to its next term and closes the case renewed; a grace
period that passed unpaid closes it lapsed.

Both are idempotent and safe with two workers: the case row is locked (`FOR UPDATE`; the lapse query skips locked
rows), a renewed case is never renewed again, and the previous term is kept once per (policy, end date).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from application.policies.desk_common import move_case
from application.policies.desk_ports import CaseEvent
from application.policies.ports import PoliciesUnitOfWork
from domain.policies.case_workflow import ALLOWED_MOVES
from domain.policies.events import CaseLapsed, PolicyRenewed
from domain.policies.model import CaseStatus, PaymentStatus, PolicyStatus, RenewalCase
from domain.policies.terms import PolicyTerm, next_term
from domain.shared.clock import Clock

__all__ = ["RenewalService"]

LAPSE_BATCH = 500


class RenewalService:
    def __init__(self, *, uow: Callable[[], PoliciesUnitOfWork], clock: Clock, lapse_batch: int = LAPSE_BATCH) -> None:
        self._uow = uow
        self._clock = clock
        self._batch = lapse_batch

    async def renew_for_payment(self, *, case_id: int, payment_id: int | None, amount: Decimal, currency: str,
                                method: str | None, paid_at: datetime) -> str:
        """Renew the case's policy term for a verified, fully paid payment; say what happened."""
        now = self._clock.now()
        async with self._uow() as uow:
            case = await uow.cases.get(case_id)
            if case is None:
                return "unknown_case"
            if case.status is CaseStatus.RENEWED:
                return await self._second_payment(uow, case, payment_id, amount, currency, now)
            policy = await uow.policies.get(case.policy_id)
            assert policy is not None and policy.id is not None and case.id is not None
            if case.term_end_date != policy.end_date:
                return "term_already_moved"
            if CaseStatus.RENEWED not in ALLOWED_MOVES[case.status]:
                case.flags.append({"code": "paid_after_close", "at": now.isoformat(), "paymentId": payment_id,
                                   "message": f"paid {amount} {currency} on a {case.status.value} case: "
                                              "refund it or reopen the renewal by hand"})
                await uow.cases.save(case)
                await uow.commit()
                return "flagged"
            await uow.terms.add(PolicyTerm(
                policy_id=policy.id, start_date=policy.start_date, end_date=policy.end_date,
                renewal_date=policy.renewal_date, premium_amount=policy.premium_amount, outcome="renewed",
                case_id=case.id, payment_id=payment_id))
            term = next_term(policy.start_date, policy.end_date, policy.renewal_date)
            previous_end = policy.end_date
            policy.apply({"start_date": term.start_date, "end_date": term.end_date,
                          "renewal_date": term.renewal_date, "status": PolicyStatus.ACTIVE})
            case.payment_status, case.payment_method, case.payment_date = PaymentStatus.PAID, method, paid_at
            reference = f"pay-{payment_id}" if payment_id else "a payment"
            moved = move_case(case, CaseStatus.RENEWED, actor_id=None, reason=f"paid by {reference}", at=now,
                              extra={"paymentId": reference})
            renewed = CaseEvent(case_id=case.id, kind="policy_renewed", actor_id=None, at=now,
                                summary=f"Policy renewed for {term.start_date} to {term.end_date} "
                                        f"({amount} {currency} by {method or 'unknown method'})",
                                data={"previousEndDate": previous_end.isoformat(),
                                      "newStartDate": term.start_date.isoformat(),
                                      "newEndDate": term.end_date.isoformat(), "paymentId": reference})
            await uow.case_events.append([moved, renewed])
            case.record(PolicyRenewed(policy_id=policy.id, case_id=case.id, payment_id=payment_id,
                                      previous_end_date=previous_end, new_start_date=term.start_date,
                                      new_end_date=term.end_date, at=now))
            await uow.policies.save(policy)
            await uow.cases.save(case)
            uow.track(policy)
            uow.track(case)
            await uow.commit()
        return "renewed"

    @staticmethod
    async def _second_payment(uow: PoliciesUnitOfWork, case: RenewalCase, payment_id: int | None, amount: Decimal,
                              currency: str, now: datetime) -> str:
        """The same payment again is nothing; another payment for a renewed case is money to give back: flagged."""
        terms = await uow.terms.of_policy(case.policy_id)
        renewing = next((t.payment_id for t in terms if t.case_id == case.id), None)
        if payment_id is None or renewing in (None, payment_id) or any(
                f.get("code") == "paid_twice" and f.get("paymentId") == payment_id for f in case.flags):
            return "already_renewed"
        case.flags.append({"code": "paid_twice", "at": now.isoformat(), "paymentId": payment_id,
                           "message": f"pay-{payment_id} paid {amount} {currency} for a case pay-{renewing} already "
                                      "renewed: refund one of them"})
        assert case.id is not None
        await uow.case_events.append([CaseEvent(
            case_id=case.id, kind="flagged", actor_id=None, at=now, summary=case.flags[-1]["message"],
            data={"code": "paid_twice", "paymentId": payment_id, "renewedBy": renewing})])
        await uow.cases.save(case)
        await uow.commit()
        return "flagged"

    async def lapse_overdue(self) -> int:
        """Lapse every open, unpaid case whose grace period has passed, and its policy; how many lapsed."""
        today, total = self._clock.today(), 0
        while True:
            now = self._clock.now()
            async with self._uow() as uow:
                cases = await uow.cases.lapsing(today=today, limit=self._batch)
                for case in cases:
                    policy = await uow.policies.get(case.policy_id)
                    assert policy is not None and case.id is not None
                    moved = move_case(case, CaseStatus.LAPSED, actor_id=None, at=now,
                                      reason=f"the grace period of {policy.grace_period_days} days passed unpaid")
                    await uow.case_events.append([moved])
                    case.record(CaseLapsed(case_id=case.id, policy_id=case.policy_id,
                                           owner_id=case.assigned_to or policy.agent_id, at=now))
                    policy.apply({"status": PolicyStatus.LAPSED})
                    await uow.policies.save(policy)
                    await uow.cases.save(case)
                    uow.track(policy)
                    uow.track(case)
                await uow.commit()
            total += len(cases)
            if len(cases) < self._batch:
                return total

