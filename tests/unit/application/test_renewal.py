"""Renewal by payment and lapse after the grace period, on both containers: the policy moves to its next term
once, the previous term is kept, the case closes renewed; an unpaid case lapses with its policy, once."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from adapters.system.clock import FixedClock
from application.policies.ports import CaseFilters
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING
from domain.policies.model import CaseStatus
from entrypoints.container import AppContainer
from tests.factories import TODAY, new_customer, new_policy

PAID_AT = datetime(2026, 11, 28, 10, 30, tzinfo=datetime.now().astimezone().tzinfo)


async def open_case(container: AppContainer, *, renewal_in_days: int, **policy: object) -> tuple[int, int]:
    customer = await container.application.customers().register(new_customer())
    issued = await container.application.policies().issue(
        new_policy(int(customer.id), renewal_in_days=renewal_in_days, **policy))
    await container.application.cases().open_case_for_policy(int(issued.id))
    page = await container.application.cases().list(CaseFilters(), PageRequest(), EVERYTHING)
    [case] = [c for c in page.items if int(c.policy_id) == int(issued.id)]
    return int(case.id), int(issued.id)


async def jobs_named(container: AppContainer, name: str) -> int:
    async with container.adapters.policies_uow() as uow:
        claimed = await uow.outbox.claim(1000)
    return sum(1 for message in claimed if message.job.name == name)


async def test_a_payment_renews_the_policy_into_its_next_term_once(container: AppContainer) -> None:
    case_id, policy_id = await open_case(container, renewal_in_days=20)
    before = await container.application.policies().get(policy_id)
    renewals = container.application.renewals()
    outcome = await renewals.renew_for_payment(case_id=case_id, payment_id=7, amount=Decimal("12500.00"),
                                               currency="INR", method="upi", paid_at=PAID_AT)
    again = await renewals.renew_for_payment(case_id=case_id, payment_id=7, amount=Decimal("12500.00"),
                                             currency="INR", method="upi", paid_at=PAID_AT)
    assert (outcome, again) == ("renewed", "already_renewed")
    after = await container.application.policies().get(policy_id)
    assert after.start_date == before.end_date + timedelta(days=1)
    assert after.end_date - after.start_date == before.end_date - before.start_date  # the same length
    assert after.renewal_date == after.end_date and after.status == "active"
    case = await container.application.cases().get(case_id, EVERYTHING)
    assert (case.status, case.payment_status, case.payment_method) == ("renewed", "paid", "upi")
    async with container.adapters.policies_uow() as uow:
        terms = await uow.terms.of_policy(policy_id)
    assert [(t.start_date, t.end_date, t.outcome, t.payment_id) for t in terms] == [
        (before.start_date, before.end_date, "renewed", 7)]


async def test_a_payment_on_a_cancelled_case_is_flagged_not_renewed(container: AppContainer) -> None:
    case_id, policy_id = await open_case(container, renewal_in_days=20)
    async with container.adapters.policies_uow() as uow:
        case = await uow.cases.get(case_id)
        assert case is not None
        case.status = CaseStatus.CANCELLED
        await uow.cases.save(case)
        await uow.commit()
    outcome = await container.application.renewals().renew_for_payment(
        case_id=case_id, payment_id=3, amount=Decimal("1.00"), currency="INR", method=None, paid_at=PAID_AT)
    assert outcome == "flagged"
    async with container.adapters.policies_uow() as uow:
        stored = await uow.cases.get(case_id)
        terms = await uow.terms.of_policy(policy_id)
    assert stored is not None and stored.status is CaseStatus.CANCELLED and terms == []
    assert [f["code"] for f in stored.flags] == ["paid_after_close"]


async def test_an_unpaid_case_lapses_with_its_policy_after_the_grace_period_once(
        container: AppContainer, clock: FixedClock) -> None:
    case_id, policy_id = await open_case(container, renewal_in_days=5, grace_period_days=10)
    paid_id, _ = await open_case(container, renewal_in_days=5, grace_period_days=10)
    await container.application.renewals().renew_for_payment(
        case_id=paid_id, payment_id=1, amount=Decimal("12500.00"), currency="INR", method="card", paid_at=PAID_AT)
    renewals = container.application.renewals()
    clock.advance(timedelta(days=15))  # renewal + grace = TODAY + 15: still inside
    assert clock.today() == TODAY + timedelta(days=15)
    assert await renewals.lapse_overdue() == 0
    clock.advance(timedelta(days=1))
    assert await renewals.lapse_overdue() == 1
    assert await renewals.lapse_overdue() == 0
    case = await container.application.cases().get(case_id, EVERYTHING)
    assert case.status == "lapsed"
    assert (await container.application.policies().get(policy_id)).status == "lapsed"
    assert (await container.application.cases().get(paid_id, EVERYTHING)).status == "renewed"
    assert await jobs_named(container, "policies.notify_lapse") == 1


async def test_a_second_payment_for_a_renewed_case_is_flagged_to_be_refunded_once(container: AppContainer) -> None:
    case_id, policy_id = await open_case(container, renewal_in_days=20)
    renewals = container.application.renewals()
    paid = {"amount": Decimal("12500.00"), "currency": "INR", "method": "upi", "paid_at": PAID_AT}
    assert await renewals.renew_for_payment(case_id=case_id, payment_id=1, **paid) == "renewed"
    assert await renewals.renew_for_payment(case_id=case_id, payment_id=1, **paid) == "already_renewed"
    assert await renewals.renew_for_payment(case_id=case_id, payment_id=2, **paid) == "flagged"
    assert await renewals.renew_for_payment(case_id=case_id, payment_id=2, **paid) == "already_renewed"
    case = await container.application.cases().get(case_id, EVERYTHING)
    assert [(f["code"], f["paymentId"]) for f in case.flags] == [("paid_twice", 2)]
    async with container.adapters.policies_uow() as uow:
        assert len(await uow.terms.of_policy(policy_id)) == 1
