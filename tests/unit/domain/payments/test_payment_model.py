"""The Payment aggregate's rules: exact amounts, never downgrade, one effect per provider payment, any order."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.payments.events import PaymentFlagged, PaymentRefunded, RenewalPaid
from domain.payments.model import Payment, PaymentFact, PaymentStatus, RefundStatus, classify_capture
from domain.shared.errors import Conflict, ValidationFailed

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
AMOUNT = Decimal("12500.50")


def payment(**changes: Any) -> Payment:
    fields: dict[str, Any] = {"case_id": 7, "policy_id": 4, "customer_id": 3, "amount": AMOUNT, "currency": "inr",
                              "provider": "razorpay", "id": 11, **changes}
    found = Payment(**fields)
    found.link_sent("email", 21)
    return found


def paid(ppid: str = "pay_1", amount: Decimal = AMOUNT, currency: str = "INR", minutes: int = 0,
         event_id: str | None = None) -> PaymentFact:
    return PaymentFact(event_id=event_id or f"evt-paid-{ppid}-{minutes}", kind="paid", provider_payment_id=ppid,
                       amount=amount, currency=currency, method="upi", at=T0 + timedelta(minutes=minutes))


def fact(kind: str, minutes: int = 0, **fields: Any) -> PaymentFact:
    return PaymentFact(event_id=f"evt-{kind}-{minutes}-{fields.get('provider_refund_id')}", kind=kind,
                       at=T0 + timedelta(minutes=minutes), **fields)


def names(p: Payment) -> list[str]:
    return [e.name for e in p.pull_events()]


def test_currency_is_upper_case_and_amounts_compare_exactly() -> None:
    assert payment().currency == "INR"
    assert classify_capture(Decimal("10.00"), "INR", Decimal("10"), "inr") == "exact"
    assert classify_capture(Decimal("10.00"), "INR", Decimal("9.99"), "INR") == "partial"
    assert classify_capture(Decimal("10.00"), "INR", Decimal("10.01"), "INR") == "mismatch"
    assert classify_capture(Decimal("10.00"), "INR", Decimal("10.00"), "USD") == "mismatch"


def test_a_full_payment_is_paid_once_and_records_renewal_paid() -> None:
    p = payment()
    assert p.apply(paid()) == f"paid {AMOUNT} INR"
    assert (p.status, p.paid_amount, p.provider_payment_id, p.method, p.paid_at) == (
        PaymentStatus.PAID, AMOUNT, "pay_1", "upi", T0)
    events = p.pull_events()
    assert [type(e) for e in events] == [RenewalPaid]
    assert isinstance(events[0], RenewalPaid) and events[0].amount == str(AMOUNT) and events[0].case_id == 7
    # the same capture again (e.g. Razorpay's payment.captured after payment_link.paid): nothing
    assert p.apply(paid(event_id="another-event")).startswith("ignored")
    assert names(p) == [] and p.status is PaymentStatus.PAID


def test_failed_and_expired_never_downgrade_a_paid_payment() -> None:
    p = payment()
    p.apply(paid())
    p.pull_events()
    p.apply(fact("failed", 5))
    assert p.status is PaymentStatus.PAID
    p.apply(fact("expired", 6))
    assert p.status is PaymentStatus.PAID and names(p) == []


def test_failed_then_expired_then_paid() -> None:
    p = payment()
    p.apply(fact("failed", 1))
    assert p.status is PaymentStatus.FAILED
    p.apply(fact("expired", 2))
    assert p.status is PaymentStatus.EXPIRED
    p.apply(fact("failed", 3))
    assert p.status is PaymentStatus.EXPIRED
    p.apply(paid(minutes=4))
    assert p.status is PaymentStatus.PAID and names(p) == ["payments.renewal_paid"]


def test_a_partial_payment_is_flagged_and_not_accepted() -> None:
    p = payment()
    p.apply(paid(amount=Decimal("100.00")))
    assert p.status is PaymentStatus.PARTIALLY_PAID and not p.settled
    events = p.pull_events()
    assert [e.name for e in events] == ["payments.payment_flagged"]
    assert isinstance(events[0], PaymentFlagged) and events[0].code == "partial_payment"
    assert events[0].expected == str(AMOUNT) and events[0].received == "100.00"
    p.apply(paid(amount=Decimal("100.00"), event_id="again"))
    assert names(p) == [] and len(p.flags) == 1


@pytest.mark.parametrize(("amount", "currency"), [(Decimal("12500.51"), "INR"), (AMOUNT, "USD")])
def test_more_or_another_currency_is_an_amount_mismatch_and_not_renewed(amount: Decimal, currency: str) -> None:
    p = payment()
    p.apply(paid(amount=amount, currency=currency))
    assert p.status is PaymentStatus.LINK_SENT and not p.settled
    assert [f["code"] for f in p.flags] == ["amount_mismatch"]
    assert names(p) == ["payments.payment_flagged"]


def test_a_second_full_payment_is_flagged_as_duplicate() -> None:
    p = payment()
    p.apply(paid("pay_1", minutes=1))
    p.apply(paid("pay_2", minutes=2))
    assert p.provider_payment_id == "pay_1"
    assert names(p) == ["payments.renewal_paid", "payments.payment_flagged"]
    assert [(f["code"], f["providerPaymentId"]) for f in p.flags] == [("duplicate_payment", "pay_2")]


def test_webhook_refunds_apply_once_per_refund_id_and_set_the_status() -> None:
    p = payment()
    p.apply(paid())
    p.pull_events()
    p.apply(fact("refunded", 5, amount=Decimal("500.50"), provider_refund_id="rfnd_1"))
    assert (p.status, p.refunded_amount) == (PaymentStatus.PARTIALLY_REFUNDED, Decimal("500.50"))
    assert p.apply(fact("refunded", 6, amount=Decimal("500.50"), provider_refund_id="rfnd_1")).startswith("ignored")
    p.apply(fact("refunded", 7, amount=Decimal("12000"), provider_refund_id="rfnd_2"))
    assert (p.status, p.refunded_amount) == (PaymentStatus.REFUNDED, AMOUNT)
    assert [type(e) for e in p.pull_events()] == [PaymentRefunded, PaymentRefunded]


def test_refund_requests_are_bounded_and_confirmed_by_the_webhook() -> None:
    p = payment()
    with pytest.raises(Conflict):
        p.check_refund(None)
    p.apply(paid())
    p.pull_events()
    with pytest.raises(ValidationFailed):
        p.check_refund(AMOUNT + Decimal("0.01"))
    with pytest.raises(ValidationFailed):
        p.check_refund(Decimal(0))
    assert p.check_refund(None) == AMOUNT
    refund = p.refund_requested(Decimal("500"), "re_1", "goodwill", 2, T0)
    assert refund.status is RefundStatus.REQUESTED and p.refunded_amount == Decimal("500")
    assert p.check_refund(None) == AMOUNT - Decimal("500")
    # Stripe's charge.refunded names no refund: it confirms the requested refund of that amount
    assert p.apply(fact("refunded", 3, amount=Decimal("500"))) == "refund re_1 confirmed"
    assert refund.status is RefundStatus.PROCESSED and p.refunded_amount == Decimal("500")
    assert names(p) == ["payments.payment_refunded"]


def test_a_refund_the_webhook_brought_first_is_adopted_by_the_request() -> None:
    p = payment()
    p.apply(paid())
    p.apply(fact("refunded", 3, amount=Decimal("500"), provider_refund_id="rfnd_9"))
    p.refund_requested(Decimal("500"), "rfnd_9", "goodwill", 2, T0)
    assert p.refunded_amount == Decimal("500") and len(p.refunds) == 1 and p.refunds[0].created_by == 2


# --- any order, any duplication: the same final state ------------------------------------------------------------

FACTS = [
    paid("pay_1", minutes=10),
    paid("pay_1", minutes=10, event_id="captured-pay_1"),  # the same capture under another event
    paid("pay_0", amount=Decimal("100"), minutes=3),  # an earlier partial payment
    paid("pay_9", amount=AMOUNT, currency="USD", minutes=4),
    paid("pay_2", minutes=20),  # paid twice
    paid("pay_3", amount=Decimal("20000"), minutes=1),
    fact("failed", 2, provider_payment_id="pay_x"),
    fact("expired", 30),
    fact("other", 31),
    fact("refunded", 40, amount=Decimal("100.25"), provider_refund_id="rfnd_1", provider_payment_id="pay_1"),
    fact("refunded", 41, amount=Decimal("50"), provider_refund_id="rfnd_2", provider_payment_id="pay_1"),
    fact("refunded", 42, amount=Decimal("7"), provider_payment_id="pay_1"),
]


def state(p: Payment) -> dict[str, Any]:
    return {"status": p.status, "paid": (p.provider_payment_id, p.paid_amount, p.method, p.paid_at),
            "refunded": p.refunded_amount, "flags": copy.deepcopy(p.flags),
            "refunds": sorted((r.provider_refund_id or "", r.amount, r.status) for r in p.refunds)}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(range(len(FACTS))), min_size=1, max_size=30))
def test_any_order_and_duplication_of_facts_gives_the_same_state(order: list[int]) -> None:
    chosen = sorted(set(order))
    reference = payment()
    emitted_reference: list[str] = []
    for index in chosen:  # each distinct fact once, in time order
        reference.apply(FACTS[index])
    emitted_reference = sorted(e.name for e in reference.pull_events())

    shuffled = payment()
    seen: set[str] = set()
    for index in order:  # the store drops a repeated event id before apply; the rules must cope with the rest
        if FACTS[index].event_id in seen:
            continue
        seen.add(FACTS[index].event_id)
        shuffled.apply(FACTS[index])
    events = shuffled.pull_events()
    assert state(shuffled) == state(reference)
    assert sorted(e.name for e in events).count("payments.renewal_paid") == emitted_reference.count(
        "payments.renewal_paid") <= 1
    flagged = sorted((e.code, e.received) for e in events if isinstance(e, PaymentFlagged))
    assert len(flagged) == len(set(flagged)) == len(shuffled.flags)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(range(len(FACTS))), min_size=1, max_size=30))
def test_applying_a_fact_again_changes_nothing_unless_it_is_an_anonymous_refund(order: list[int]) -> None:
    p = payment()
    for index in order:
        p.apply(FACTS[index])
    before = state(p)
    for index in order:
        if FACTS[index].kind == "refunded" and FACTS[index].provider_refund_id is None:
            continue  # deduplicated by event id before the aggregate sees it
        p.apply(FACTS[index])
    assert state(p) == before
