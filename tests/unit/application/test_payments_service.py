"""The payments use cases on the in-memory adapters: links, webhooks applied once, receipts, refunds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from dependency_injector import providers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.memory.case_messenger import InMemoryCaseMessenger
from adapters.memory.payments import InMemoryPaymentGateway, InMemoryPaymentWebhooks
from adapters.memory.store import MemoryStore
from adapters.system.clock import FixedClock
from application.payments.errors import (
    IdempotencyKeyReused,
    LinkNotSent,
    PaymentProviderRefused,
    PaymentProviderUnavailable,
)
from application.payments.service import PaymentService
from application.payments.views import NewPaymentLink, RefundRequest
from application.payments.webhooks import UNMATCHED, PaymentWebhookService, UnknownProvider
from application.ports.payments import InvalidSignature, PaymentEvent
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING, Visibility
from domain.policies.model import CaseStatus
from domain.shared.errors import Conflict, NotFound, ValidationFailed
from entrypoints.container import AppContainer, build_memory_container
from tests.conftest import NOW, settings_for_tests
from tests.unit.application.payments_support import open_case

AMOUNT = Decimal("12500.50")


class Desk:
    def __init__(self, container: AppContainer) -> None:
        self.container = container
        container.bridges.case_messenger.override(providers.Object(InMemoryCaseMessenger()))
        self.service: PaymentService = container.payments.service()
        self.webhooks: PaymentWebhookService = container.payments.webhooks()
        self.gateway: InMemoryPaymentGateway = container.payments.gateway()
        self.signer: InMemoryPaymentWebhooks = container.payments.memory_webhooks()
        self.messenger: InMemoryCaseMessenger = container.bridges.case_messenger()
        self.store: MemoryStore = container.adapters.store()

    async def link(self, case_id: int, **body: Any) -> str:
        created = await self.service.create_link(case_id, NewPaymentLink(**{"channel": "email", **body}),
                                                 EVERYTHING, None)
        return created.payment_id.public()

    def jobs(self, name: str) -> list[dict[str, Any]]:
        return [row.job.args for row in self.store.tables.outbox.values() if row.job.name == name]

    def audit(self, action: str) -> list[dict[str, Any]]:
        return [a.data for a in self.store.tables.audit if a.action == action]

    async def deliver(self, event: PaymentEvent) -> int:
        headers, body = self.signer.signed(event)
        return (await self.webhooks.accept("memory", headers, body)).recorded

    async def apply_all(self) -> list[str]:
        outcomes = []
        for args in self.jobs("payments.apply_event"):
            outcomes.append(await self.webhooks.apply_event(args["event_row_id"]))
        return outcomes


def event(kind: str = "paid", *, event_id: str = "evt-1", reference: str | None = "pay-1",
          ppid: str | None = "mpay-1", amount: Decimal | None = AMOUNT, minutes: int = 5,
          refund_id: str | None = None) -> PaymentEvent:
    return PaymentEvent(provider="memory", event_id=event_id, kind=kind, type=f"memory.{kind}",  # type: ignore[arg-type]
                        reference=reference, provider_payment_id=ppid, amount=amount,
                        currency="INR" if amount is not None else None, method="upi",
                        at=NOW + timedelta(minutes=minutes), raw={}, provider_refund_id=refund_id)


@pytest.fixture
def desk(memory_container: AppContainer) -> Desk:
    return Desk(memory_container)


async def test_a_link_is_made_for_the_renewal_amount_and_sent(desk: Desk) -> None:
    case_id = await open_case(desk.container)
    created = await desk.service.create_link(case_id, NewPaymentLink(channel="whatsapp"), EVERYTHING, 4)
    assert (created.payment_id.public(), created.status, created.provider) == ("pay-1", "link_sent", "memory")
    assert created.expires_at == NOW + timedelta(hours=72) and created.message_id is not None
    (link, request), = desk.gateway.links
    assert (request.reference, request.amount, request.currency, request.case_id) == ("pay-1", AMOUNT, "INR", case_id)
    assert created.url == link.url
    (message,) = desk.messenger.of_case(case_id)
    assert (message.channel, message.template, message.purpose) == ("whatsapp", "payment_link", "payment_link")
    assert message.values["payment_link"] == link.url and message.values["amount"] == str(AMOUNT)
    assert desk.audit("payments.payment_link_sent")[0]["channel"] == "whatsapp"
    view = await desk.service.get(1, EVERYTHING)
    assert (view.status, view.channel, view.url, view.created_by) == ("link_sent", "whatsapp", link.url, 4)


async def test_amount_and_expiry_are_checked_field_by_field(desk: Desk) -> None:
    case_id = await open_case(desk.container)
    with pytest.raises(ValidationFailed) as raised:
        await desk.link(case_id, amount=Decimal("10.001"), expires_in_hours=0)
    assert {d.field for d in raised.value.details} == {"amount", "expiresInHours"}
    with pytest.raises(ValidationFailed):
        await desk.link(case_id, amount=Decimal("-1"))
    assert desk.gateway.links == [] and desk.store.tables.payments == {}
    assert await desk.link(case_id, amount=Decimal("100.25"), expires_in_hours=2) == "pay-1"
    assert desk.gateway.links[0][1].amount == Decimal("100.25")


async def test_the_idempotency_key_answers_the_first_link_and_refuses_another_body(desk: Desk) -> None:
    case_id = await open_case(desk.container)
    body = NewPaymentLink(channel="email")
    first = await desk.service.create_link(case_id, body, EVERYTHING, 4, "key-1")
    again = await desk.service.create_link(case_id, body, EVERYTHING, 4, "key-1")
    assert again.payment_id == first.payment_id and again.url == first.url and len(desk.gateway.links) == 1
    with pytest.raises(IdempotencyKeyReused):
        await desk.service.create_link(case_id, NewPaymentLink(channel="sms"), EVERYTHING, 4, "key-1")
    other = await desk.service.create_link(case_id, body, EVERYTHING, 5, "key-1")  # keys are per user
    assert other.payment_id != first.payment_id


async def test_a_closed_or_hidden_case_gets_no_link(desk: Desk) -> None:
    case_id = await open_case(desk.container)
    with pytest.raises(NotFound):
        await desk.service.create_link(case_id, NewPaymentLink(channel="email"), Visibility(reach="own", user_id=9), 9)
    desk.store.tables.cases[case_id].status = CaseStatus.LOST
    with pytest.raises(Conflict):
        await desk.link(case_id)
    assert desk.gateway.links == [] and desk.store.tables.payments == {}


async def test_provider_failures_cancel_the_payment_and_send_nothing(desk: Desk) -> None:
    case_id = await open_case(desk.container)
    desk.gateway.fail_next()
    with pytest.raises(PaymentProviderUnavailable):
        await desk.link(case_id)
    desk.gateway.refuse("pay-2", code="razorpay:BAD_REQUEST_ERROR")
    with pytest.raises(PaymentProviderRefused):
        await desk.link(case_id)
    assert [p.status for p in desk.store.tables.payments.values()] == ["cancelled", "cancelled"]
    assert desk.messenger.queued == [] and desk.audit("payments.payment_link_sent") == []


async def test_a_refused_message_cancels_the_payment(desk: Desk) -> None:
    case_id = await open_case(desk.container)
    customer_id = desk.store.tables.policies[desk.store.tables.cases[case_id].policy_id].customer_id
    desk.messenger.refuse("sms", customer_id)
    with pytest.raises(LinkNotSent) as raised:
        await desk.link(case_id, channel="sms")
    assert raised.value.field == "channel"
    assert desk.store.tables.payments[1].status == "cancelled"


async def test_a_webhook_is_stored_once_and_applied_once(desk: Desk) -> None:
    case_id = await open_case(desk.container)
    await desk.link(case_id)
    assert await desk.deliver(event()) == 1
    assert await desk.deliver(event()) == 0  # the provider's retry
    assert len(desk.store.tables.payment_events) == 1
    (args,) = desk.jobs("payments.apply_event")
    assert await desk.webhooks.apply_event(args["event_row_id"]) == f"pay-1: paid {AMOUNT} INR"
    assert (await desk.webhooks.apply_event(args["event_row_id"])).startswith("already applied")
    view = await desk.service.get(1, EVERYTHING)
    assert (view.status, view.paid_amount, view.provider_payment_id, view.method) == ("paid", AMOUNT, "mpay-1", "upi")
    (paid,) = desk.audit("payments.renewal_paid")
    assert (paid["case_id"], paid["amount"], paid["provider"]) == (case_id, str(AMOUNT), "memory")
    assert desk.jobs("payments.send_receipt") == [{"payment_id": 1}]
    assert len(desk.jobs("campaigns.record_conversion")) == 1


async def test_bad_signatures_and_unknown_providers_store_nothing(desk: Desk) -> None:
    headers, body = desk.signer.signed(event())
    with pytest.raises(InvalidSignature):
        await desk.webhooks.accept("memory", {**headers, "X-Memory-Signature": "0" * 64}, body)
    with pytest.raises(InvalidSignature):
        await desk.webhooks.accept("memory", headers, body.replace(b"12500.50", b"1.00"))
    with pytest.raises(UnknownProvider):
        await desk.webhooks.accept("paypal", headers, body)
    assert desk.store.tables.payment_events == {} and desk.store.tables.outbox == {}


async def test_the_receipt_goes_once_and_transactional(desk: Desk) -> None:
    case_id = await open_case(desk.container)
    await desk.link(case_id)
    assert await desk.webhooks.send_receipt(1) is None  # not paid yet
    await desk.deliver(event())
    await desk.apply_all()
    first = await desk.webhooks.send_receipt(1)
    second = await desk.webhooks.send_receipt(1)
    assert first is not None and second is not None and first.message_id == second.message_id
    receipts = [m for m in desk.messenger.of_case(case_id) if m.purpose == "receipt"]
    assert len(receipts) == 1 and receipts[0].transactional and receipts[0].template == "payment_received"
    assert receipts[0].values["receipt_number"] == "RCPT-20261128-000001"


async def test_an_event_before_its_payment_is_known_is_applied_when_it_is(desk: Desk) -> None:
    case_id = await open_case(desk.container)
    await desk.link(case_id)
    await desk.deliver(event("refunded", event_id="rf", reference=None, amount=Decimal("500"), refund_id="r-1"))
    assert await desk.apply_all() == [UNMATCHED]
    await desk.deliver(event("paid", event_id="paid"))
    await desk.apply_all()
    view = await desk.service.get(1, EVERYTHING)
    assert (view.status, view.refunded_amount) == ("partially_refunded", Decimal("500"))
    assert all(e.applied_at is not None for e in desk.store.tables.payment_events.values())


async def test_mismatched_and_partial_payments_are_flagged_not_accepted(desk: Desk) -> None:
    case_id = await open_case(desk.container)
    await desk.link(case_id)
    await desk.deliver(event(amount=Decimal("100")))
    await desk.apply_all()
    view = await desk.service.get(1, EVERYTHING)
    assert view.status == "partially_paid" and [f["code"] for f in view.flags] == ["partial_payment"]
    (flagged,) = desk.audit("payments.payment_flagged")
    assert (flagged["code"], flagged["case_id"]) == ("partial_payment", case_id)
    assert desk.audit("payments.renewal_paid") == []


async def test_refunds_are_bounded_and_recorded(desk: Desk) -> None:
    case_id = await open_case(desk.container)
    await desk.link(case_id)
    with pytest.raises(Conflict):
        await desk.service.refund(1, RefundRequest(reason="goodwill"), EVERYTHING, 2)
    await desk.deliver(event())
    await desk.apply_all()
    with pytest.raises(ValidationFailed):
        await desk.service.refund(1, RefundRequest(reason="too much", amount=AMOUNT + 1), EVERYTHING, 2)
    with pytest.raises(ValidationFailed):
        await desk.service.refund(1, RefundRequest(reason=" "), EVERYTHING, 2)
    view = await desk.service.refund(1, RefundRequest(reason="goodwill", amount=Decimal("500")), EVERYTHING, 2)
    assert (view.status, view.refunded_amount) == ("partially_refunded", Decimal("500"))
    assert [(r.amount, r.status, r.provider_refund_id) for r in view.refunds] == [
        (Decimal("500"), "requested", "mem-refund-1")]
    assert desk.gateway.refunds[0].provider_payment_id == "mpay-1"
    view = await desk.service.refund(1, RefundRequest(reason="the rest"), EVERYTHING, 2)
    assert (view.status, view.refunded_amount) == ("refunded", AMOUNT)
    assert len(desk.audit("payments.payment_refunded")) == 2
    desk.gateway.fail_next()
    with pytest.raises(Conflict):  # nothing left
        await desk.service.refund(1, RefundRequest(reason="again"), EVERYTHING, 2)


async def test_lists_are_by_case_and_scoped(desk: Desk) -> None:
    case_id = await open_case(desk.container)
    await desk.link(case_id)
    await desk.link(case_id, channel="sms")
    page = await desk.service.list(case_id, PageRequest(), EVERYTHING)
    assert [p.id.public() for p in page.items] == ["pay-2", "pay-1"] and page.total == 2
    with pytest.raises(ValidationFailed):
        await desk.service.list(None, PageRequest(), Visibility(reach="own", user_id=3))
    with pytest.raises(NotFound):
        await desk.service.list(case_id, PageRequest(), Visibility(reach="own", user_id=3))
    with pytest.raises(NotFound):
        await desk.service.get(1, Visibility(reach="own", user_id=3))


# --- through the store: any order, any duplication -------------------------------------------------------------

DELIVERIES = [
    event("paid", event_id="link.paid"),
    event("paid", event_id="payment.captured", reference=None),
    event("paid", event_id="partial", ppid="mpay-0", amount=Decimal("100"), minutes=1),
    event("failed", event_id="failed", ppid="mpay-x", amount=None, minutes=0),
    event("expired", event_id="expired", ppid=None, amount=None, minutes=50),
    event("refunded", event_id="refund-1", reference=None, amount=Decimal("250"), refund_id="r-1", minutes=60),
    event("refunded", event_id="refund-2", amount=Decimal("50"), minutes=61),
    event("other", event_id="other", amount=None),
]


async def final_state(order: list[int]) -> tuple[Any, ...]:
    container = build_memory_container(settings_for_tests(REDIS_URL=""))
    container.core.clock.override(FixedClock(NOW))
    desk = Desk(container)
    await desk.link(await open_case(container))
    for index in order:
        await desk.deliver(DELIVERIES[index])
        await desk.apply_all()  # the job may run any time after the delivery; running it again is harmless
    view = await desk.service.get(1, EVERYTHING)
    return (view.status, view.paid_amount, view.provider_payment_id, view.paid_at, view.refunded_amount,
            sorted((r.amount, r.provider_refund_id or "") for r in view.refunds), view.flags,
            sorted(a.action for a in desk.store.tables.audit if a.action.startswith("payments.")),
            len(desk.store.tables.payment_events))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(range(len(DELIVERIES))), min_size=1, max_size=16))
async def test_any_order_and_repetition_of_deliveries_gives_one_final_state(order: list[int]) -> None:
    assert await final_state(order) == await final_state(sorted(set(order)))


def test_webhooks_are_heard_from_every_provider_with_a_secret_and_dev_outside_production() -> None:
    from entrypoints.payments_container import payments_config, webhook_parsers
    from entrypoints.settings import Settings

    memory = InMemoryPaymentWebhooks()
    plain = Settings(app_env="test")
    assert sorted(webhook_parsers(plain, "sql", memory)) == ["dev"]
    assert sorted(webhook_parsers(plain, "memory", memory)) == ["dev", "memory"]
    both = Settings(app_env="production", razorpay_webhook_secret="r", stripe_webhook_secret="s")
    assert sorted(webhook_parsers(both, "sql", memory)) == ["razorpay", "stripe"]
    assert payments_config(Settings(payment_provider="stripe"), "sql").provider == "stripe"
    assert payments_config(Settings(payment_provider="stripe"), "memory").provider == "memory"
