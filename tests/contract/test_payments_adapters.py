"""The payments unit of work, on the in-memory and the PostgreSQL adapters alike."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from application.payments.ports import PaymentsUnitOfWork
from application.ports.payments import PaymentEvent
from application.shared.pagination import PageRequest
from domain.payments.model import Payment, PaymentFact, PaymentStatus, RefundStatus
from domain.shared.errors import Conflict
from entrypoints.container import AppContainer
from tests.conftest import NOW
from tests.factories import add_staff
from tests.unit.application.payments_support import open_case


def uow(container: AppContainer) -> PaymentsUnitOfWork:
    made: PaymentsUnitOfWork = container.payments.storage.payments_uow()
    return made


def new_payment(case_id: int | None, **changes: Any) -> Payment:
    fields: dict[str, Any] = {"case_id": case_id, "policy_id": 1, "customer_id": 1, "amount": Decimal("12500.50"),
                              "currency": "INR", "provider": "razorpay", "expires_at": NOW + timedelta(hours=3),
                              **changes}
    return Payment(**fields)


def webhook(event_id: str = "evt_1", **changes: Any) -> PaymentEvent:
    fields: dict[str, Any] = {
        "provider": "razorpay", "event_id": event_id, "kind": "paid", "type": "payment_link.paid",
        "reference": "pay-1", "provider_payment_id": "pay_A", "amount": Decimal("12500.50"), "currency": "INR",
        "method": "upi", "at": NOW, "raw": {"event": "payment_link.paid", "payload": {"n": [1, 2]}},
        "provider_link_id": "plink_1", **changes}
    return PaymentEvent(**fields)


async def add(container: AppContainer, payment: Payment) -> Payment:
    async with uow(container) as unit:
        added = await unit.payments.add(payment)
        await unit.commit()
    return added


async def test_a_payment_round_trips_with_flags_and_refunds(container: AppContainer) -> None:
    case_id = await open_case(container)
    _, (user,) = await add_staff(container, branch_count=0, user_branches=[None])
    added = await add(container, new_payment(case_id, created_by=user, idempotency_key="k", request_hash="h"))
    assert added.id == 1 and added.status is PaymentStatus.CREATED and added.created_at == NOW
    async with uow(container) as unit:
        payment = await unit.payments.get(1, lock=True)
        assert payment is not None
        payment.link_created("plink_1", "https://rzp.io/i/abc", payment.expires_at)
        payment.link_sent("sms", None)
        payment.apply(PaymentFact(event_id="e", kind="paid", at=NOW, provider_payment_id="pay_A",
                                  amount=Decimal("100.25"), currency="INR", method="card"))
        payment.refund_requested(Decimal("50.25"), "rfnd_1", "goodwill", user, NOW)
        await unit.payments.save(payment)
        await unit.commit()
    assert payment.refunds[0].id is not None
    async with uow(container) as unit:
        loaded = await unit.payments.get(1)
        assert loaded is not None
        assert (loaded.status, loaded.paid_amount, loaded.refunded_amount, loaded.method, loaded.paid_at) == (
            PaymentStatus.PARTIALLY_REFUNDED, Decimal("100.25"), Decimal("50.25"), "card", NOW)
        assert (loaded.provider_link_id, loaded.link_url, loaded.channel) == ("plink_1", "https://rzp.io/i/abc", "sms")
        assert [f["code"] for f in loaded.flags] == ["partial_payment"] and loaded.flags == payment.flags
        assert [(r.amount, r.status, r.provider_refund_id, r.reason, r.created_by) for r in loaded.refunds] == [
            (Decimal("50.25"), RefundStatus.REQUESTED, "rfnd_1", "goodwill", user)]
        loaded.apply(PaymentFact(event_id="r", kind="refunded", at=NOW, amount=Decimal("50.25"),
                                 provider_refund_id="rfnd_1"))
        await unit.payments.save(loaded)
        await unit.commit()
    async with uow(container) as unit:
        again = await unit.payments.get(1)
        assert again is not None and again.refunds[0].status is RefundStatus.PROCESSED and len(again.refunds) == 1
        assert await unit.payments.get(99) is None


async def test_an_idempotency_key_is_unique_per_user(container: AppContainer) -> None:
    case_id = await open_case(container)
    await add(container, new_payment(case_id, idempotency_key="k-1", request_hash="h"))
    with pytest.raises(Conflict) as raised:
        await add(container, new_payment(case_id, idempotency_key="k-1", request_hash="other"))
    assert raised.value.field == "idempotencyKey"
    async with uow(container) as unit:
        found = await unit.payments.find_by_idempotency_key(None, "k-1")
        assert found is not None and found.request_hash == "h"
        assert await unit.payments.find_by_idempotency_key(None, "k-2") is None
        assert (await unit.payments.list(None, PageRequest())).total == 1


async def test_events_find_their_payment_by_provider_ids_or_reference(container: AppContainer) -> None:
    case_id = await open_case(container)
    first = await add(container, new_payment(case_id, provider_link_id="plink_1"))
    second = await add(container, new_payment(case_id, provider_payment_id="pay_B"))
    await add(container, new_payment(case_id, provider="stripe", provider_link_id="cs_1"))
    async with uow(container) as unit:
        find = unit.payments.find_for_event

        async def found(provider: str = "razorpay", **ids: Any) -> int | None:
            keys: dict[str, Any] = {"payment_id": None, "provider_payment_id": None, "provider_link_id": None, **ids}
            payment = await find(provider, **keys)
            return None if payment is None else payment.id

        assert await found(provider_payment_id="pay_B", payment_id=first.id) == second.id
        assert await found(payment_id=first.id) == first.id
        assert await found(provider_link_id="plink_1") == first.id
        assert await found(provider="stripe", provider_link_id="cs_1") == 3
        assert await found(provider="stripe", payment_id=first.id) is None
        assert await found(payment_id=2**40) is None
        assert await found() is None


async def test_a_provider_payment_belongs_to_one_payment(container: AppContainer) -> None:
    case_id = await open_case(container)
    await add(container, new_payment(case_id, provider_payment_id="pay_A"))
    other = await add(container, new_payment(case_id))
    async with uow(container) as unit:
        other.provider_payment_id = "pay_A"
        with pytest.raises(Conflict):
            await unit.payments.save(other)


async def test_lists_are_newest_first_per_case_and_paged(container: AppContainer) -> None:
    case_id = await open_case(container)
    for _ in range(3):
        await add(container, new_payment(case_id))
    await add(container, new_payment(None))
    async with uow(container) as unit:
        page = await unit.payments.list(case_id, PageRequest(page=1, limit=2))
        assert ([p.id for p in page.items], page.total) == ([3, 2], 3)
        page = await unit.payments.list(case_id, PageRequest(page=2, limit=2))
        assert [p.id for p in page.items] == [1]
        assert (await unit.payments.list(None, PageRequest())).total == 4


async def test_an_event_is_stored_once_and_read_back_exactly(container: AppContainer) -> None:
    async with uow(container) as unit:
        row_id = await unit.payment_events.add(webhook(), NOW)
        assert row_id is not None
        assert await unit.payment_events.add(webhook(kind="failed"), NOW) is None
        await unit.commit()
    async with uow(container) as unit:
        assert await unit.payment_events.add(webhook(), NOW) is None
        assert await unit.payment_events.add(webhook(provider="stripe"), NOW) is not None
        stored = await unit.payment_events.get_for_update(row_id)
        assert stored is not None and stored.event == webhook() and stored.received_at == NOW
        assert stored.applied_at is None and stored.outcome is None
        await unit.payment_events.mark(row_id, applied_at=NOW, outcome="pay-1: paid")
        await unit.commit()
    async with uow(container) as unit:
        stored = await unit.payment_events.get_for_update(row_id)
        assert stored is not None and (stored.applied_at, stored.outcome) == (NOW, "pay-1: paid")
        assert await unit.payment_events.get_for_update(999) is None


async def test_unmatched_events_are_found_by_provider_payment(container: AppContainer) -> None:
    async with uow(container) as unit:
        ids = [await unit.payment_events.add(webhook(f"e{n}", **changes), NOW) for n, changes in enumerate((
            {"provider_payment_id": "pay_A"}, {"provider_payment_id": "pay_B"}, {"provider_payment_id": "pay_A"},
            {"provider": "stripe", "provider_payment_id": "pay_A"}))]
        assert all(i is not None for i in ids)
        await unit.payment_events.mark(ids[0], applied_at=None, outcome="unmatched")
        await unit.payment_events.mark(ids[2], applied_at=NOW, outcome="applied")
        await unit.commit()
    async with uow(container) as unit:
        waiting = await unit.payment_events.unmatched_for("razorpay", "pay_A")
        assert [w.id for w in waiting] == [ids[0]] and waiting[0].outcome == "unmatched"


async def test_nothing_is_written_without_a_commit(container: AppContainer) -> None:
    case_id = await open_case(container)
    async with uow(container) as unit:
        await unit.payments.add(new_payment(case_id))
        await unit.payment_events.add(webhook(), NOW)
    async with uow(container) as unit:
        assert (await unit.payments.list(None, PageRequest())).total == 0
        assert await unit.payment_events.add(webhook(), NOW) is not None
