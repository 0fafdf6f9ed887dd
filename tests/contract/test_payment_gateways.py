"""The payments ports: in-memory, dev, Razorpay and Stripe (local fakes of their APIs) under the same tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.memory.payments import InMemoryPaymentGateway, InMemoryPaymentWebhooks
from adapters.payments.dev import LINKS_FILE, REFUNDS_FILE, DevPaymentGateway, DevPaymentWebhooks, dev_paid_event
from adapters.payments.razorpay import RazorpayPaymentGateway, RazorpayWebhooks
from adapters.payments.stripe import StripePaymentGateway, StripeWebhooks
from adapters.system.clock import FixedClock
from adapters.webhooks.razorpay_signature import razorpay_signature
from adapters.webhooks.stripe_signature import stripe_signature_header
from application.ports.payments import (
    InvalidSignature,
    MalformedWebhook,
    PaymentEvent,
    PaymentGateway,
    PaymentLinkRequest,
    PaymentRejected,
    PaymentUnavailable,
    PaymentWebhooks,
)
from tests.contract.email_support import free_port
from tests.contract.payments_support import (
    RAZORPAY_KEY_ID,
    RAZORPAY_KEY_SECRET,
    RAZORPAY_WEBHOOK_SECRET,
    STRIPE_RETURN_URL,
    STRIPE_SECRET_KEY,
    STRIPE_SIGNING_SECRET,
    FakeRazorpay,
    FakeStripe,
    Reply,
    razorpay_error,
    razorpay_link_paid,
    razorpay_payment_event,
    razorpay_refund_processed,
    stripe_charge,
    stripe_error,
    stripe_event,
    stripe_session,
)

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
PUBLIC_API_URL = "http://localhost:8000"
DEV_SECRET = "dev-webhook-secret"
RAZORPAY_PAYMENT = "pay_FOGsH8uHkF2FbR"
STRIPE_INTENT = "pi_3MtwBwLkdIwHu7ix28a3tqPa"
EXPONENTS = {"INR": 2, "JPY": 0}


def link_request(**changes: Any) -> PaymentLinkRequest:
    fields: dict[str, Any] = {
        "reference": "pay-41", "amount": Decimal("12345.67"), "currency": "INR", "description": "Renewal of policy 7",
        "customer_name": "Ana Rao", "customer_email": "ana@example.com", "customer_phone": "+919876543210",
        "case_id": 7, "callback_url": "https://renewals.example.com/paid?ref=pay-41",
        "expire_at": NOW + timedelta(hours=12), **changes}
    return PaymentLinkRequest(**fields)


def major(minor: int | str, currency: str) -> Decimal:
    return Decimal(int(minor)).scaleb(-EXPONENTS[currency.upper()])


@dataclass(frozen=True)
class Created:
    reference: str
    amount: Decimal
    currency: str
    case_id: str | None
    return_url: str | None


@dataclass(frozen=True)
class GatewayUnderTest:
    name: str
    gateway: PaymentGateway
    created: Callable[[], list[Created]]  # what the provider recorded, in order
    refunded: Callable[[], list[tuple[str, Decimal]]]  # (payment id, amount)
    fail_next: Callable[[], None]  # the next call fails transiently
    payment_id: str  # a payment the provider will refund
    url_prefix: str


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


@pytest.fixture
def razorpay_fake() -> Iterator[FakeRazorpay]:
    fake = FakeRazorpay()
    fake.start()
    yield fake
    fake.stop()
    assert fake.violations == []


@pytest.fixture
def stripe_fake() -> Iterator[FakeStripe]:
    fake = FakeStripe()
    fake.start()
    yield fake
    fake.stop()
    assert fake.violations == []


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def razorpay_gateway(http_client: httpx.AsyncClient, razorpay_fake: FakeRazorpay) -> RazorpayPaymentGateway:
    return RazorpayPaymentGateway(http_client, key_id=RAZORPAY_KEY_ID, key_secret=RAZORPAY_KEY_SECRET,
                                  base_url=razorpay_fake.url)


@pytest.fixture
def stripe_gateway(http_client: httpx.AsyncClient, stripe_fake: FakeStripe, clock: FixedClock) -> StripePaymentGateway:
    return StripePaymentGateway(http_client, secret_key=STRIPE_SECRET_KEY, return_url=STRIPE_RETURN_URL, clock=clock,
                                base_url=stripe_fake.url)


@pytest.fixture
def memory_under_test() -> GatewayUnderTest:
    memory = InMemoryPaymentGateway()
    return GatewayUnderTest(
        "memory", memory,
        lambda: [Created(r.reference, r.amount, r.currency.upper(), None if r.case_id is None else str(r.case_id),
                         r.callback_url) for _, r in memory.links],
        lambda: [(r.provider_payment_id, r.amount) for r in memory.refunds],
        memory.fail_next, "mem-pay-1", "https://pay.example.invalid/")


@pytest.fixture
def dev_under_test(tmp_path: Path, clock: FixedClock) -> GatewayUnderTest:
    def lines(name: str) -> list[dict[str, Any]]:
        path = tmp_path / name
        return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []

    def fail_next() -> None:
        (tmp_path / LINKS_FILE).mkdir()  # appending to a directory fails
        (tmp_path / REFUNDS_FILE).mkdir()

    return GatewayUnderTest(
        "dev", DevPaymentGateway(tmp_path, public_api_url=PUBLIC_API_URL, clock=clock),
        lambda: [Created(e["reference"], Decimal(e["amount"]), e["currency"],
                         None if e["case_id"] is None else str(e["case_id"]), e["callback_url"])
                 for e in lines(LINKS_FILE)],
        lambda: [(e["payment_id"], Decimal(e["amount"])) for e in lines(REFUNDS_FILE)],
        fail_next, "dev-pay-1", f"{PUBLIC_API_URL}/dev/pay/")


@pytest.fixture
def razorpay_under_test(razorpay_fake: FakeRazorpay, razorpay_gateway: RazorpayPaymentGateway) -> GatewayUnderTest:
    return GatewayUnderTest(
        "razorpay", razorpay_gateway,
        lambda: [Created(b["reference_id"], major(b["amount"], b["currency"]), b["currency"],
                         (b["notes"] or {}).get("caseId"), b.get("callback_url")) for b in razorpay_fake.links],
        lambda: [(pid, major(b["amount"], "INR")) for pid, b in razorpay_fake.refunds],
        lambda: razorpay_fake.next_replies.append(razorpay_error(503, "Service unavailable", code="SERVER_ERROR")),
        RAZORPAY_PAYMENT, "https://rzp.io/i/")


@pytest.fixture
def stripe_under_test(stripe_fake: FakeStripe, stripe_gateway: StripePaymentGateway) -> GatewayUnderTest:
    return GatewayUnderTest(
        "stripe", stripe_gateway,
        lambda: [Created(f["client_reference_id"], major(f["line_items[0][price_data][unit_amount]"],
                                                         f["line_items[0][price_data][currency]"]),
                         f["line_items[0][price_data][currency]"].upper(), f.get("metadata[caseId]"),
                         f["success_url"]) for f in stripe_fake.sessions],
        lambda: [(f["payment_intent"], major(f["amount"], "INR")) for f in stripe_fake.refunds],
        lambda: stripe_fake.next_replies.append(stripe_error(500, "An unknown error occurred", error_type="api_error")),
        STRIPE_INTENT, "https://checkout.stripe.com/c/pay/")


@pytest.fixture(params=["memory", "dev", "razorpay", "stripe"])
def under_test(request: pytest.FixtureRequest) -> GatewayUnderTest:
    found: GatewayUnderTest = request.getfixturevalue(f"{request.param}_under_test")
    return found


async def test_a_link_carries_reference_amount_case_and_return_url(under_test: GatewayUnderTest) -> None:
    link = await under_test.gateway.create_link(link_request())
    assert link.provider == under_test.name
    assert link.provider_link_id and link.url.startswith(under_test.url_prefix)
    assert under_test.created() == [Created("pay-41", Decimal("12345.67"), "INR", "7",
                                            "https://renewals.example.com/paid?ref=pay-41")]


async def test_each_link_gets_its_own_id(under_test: GatewayUnderTest) -> None:
    first = await under_test.gateway.create_link(link_request(reference="pay-1"))
    second = await under_test.gateway.create_link(link_request(reference="pay-2", case_id=None))
    assert first.provider_link_id != second.provider_link_id
    assert [(c.reference, c.case_id) for c in under_test.created()] == [("pay-1", "7"), ("pay-2", None)]


@pytest.mark.parametrize(("amount", "currency"), [
    (Decimal("10.005"), "INR"), (Decimal("0"), "INR"), (Decimal("-5"), "INR"), (Decimal("NaN"), "INR"),
    (Decimal("1500.5"), "JPY"),
])
async def test_amounts_the_currency_cannot_express_are_refused_before_sending(
    under_test: GatewayUnderTest, amount: Decimal, currency: str,
) -> None:
    with pytest.raises(PaymentRejected) as raised:
        await under_test.gateway.create_link(link_request(amount=amount, currency=currency))
    assert raised.value.code == "invalid_amount"
    with pytest.raises(PaymentRejected):
        await under_test.gateway.refund(under_test.payment_id, amount, currency=currency)
    assert under_test.created() == [] and under_test.refunded() == []


async def test_a_zero_decimal_currency_is_sent_in_whole_units(under_test: GatewayUnderTest) -> None:
    await under_test.gateway.create_link(link_request(amount=Decimal("1500"), currency="jpy"))
    [created] = under_test.created()
    assert (created.amount, created.currency) == (Decimal("1500"), "JPY")


async def test_a_transient_failure_is_unavailable(under_test: GatewayUnderTest) -> None:
    under_test.fail_next()
    with pytest.raises(PaymentUnavailable):
        await under_test.gateway.create_link(link_request())
    assert under_test.created() == []


async def test_a_refund_returns_the_provider_refund_id(under_test: GatewayUnderTest) -> None:
    first = await under_test.gateway.refund(under_test.payment_id, Decimal("100.50"), currency="INR")
    second = await under_test.gateway.refund(under_test.payment_id, Decimal("0.25"), currency="INR")
    assert first and second and first != second
    assert under_test.refunded() == [(under_test.payment_id, Decimal("100.50")),
                                     (under_test.payment_id, Decimal("0.25"))]


# Razorpay specifics


async def test_razorpay_link_request_is_exactly_the_documented_one(
    razorpay_fake: FakeRazorpay, razorpay_gateway: RazorpayPaymentGateway,
) -> None:
    link = await razorpay_gateway.create_link(link_request())
    [request] = razorpay_fake.requests
    assert (request.method, request.path) == ("POST", "/v1/payment_links")
    assert request.body == {
        "amount": 1234567, "currency": "INR", "accept_partial": False, "reference_id": "pay-41",
        "description": "Renewal of policy 7", "notify": {"sms": False, "email": False}, "reminder_enable": False,
        "customer": {"name": "Ana Rao", "email": "ana@example.com", "contact": "+919876543210"},
        "notes": {"caseId": "7"}, "callback_url": "https://renewals.example.com/paid?ref=pay-41",
        "callback_method": "get", "expire_by": int((NOW + timedelta(hours=12)).timestamp()),
    }
    assert (link.provider_link_id, link.url, link.status) == ("plink_00000000000001", "https://rzp.io/i/000001",
                                                              "created")


async def test_razorpay_leaves_out_what_the_request_does_not_have(
    razorpay_fake: FakeRazorpay, razorpay_gateway: RazorpayPaymentGateway,
) -> None:
    await razorpay_gateway.create_link(PaymentLinkRequest(reference="pay-9", amount=Decimal("500"), currency="INR",
                                                          description="Renewal"))
    assert razorpay_fake.requests[0].body == {
        "amount": 50000, "currency": "INR", "accept_partial": False, "reference_id": "pay-9",
        "description": "Renewal", "notify": {"sms": False, "email": False}, "reminder_enable": False}


@pytest.mark.parametrize(("reply", "error", "code"), [
    (razorpay_error(400, "The amount must be atleast INR 1.00", field="amount"), PaymentRejected,
     "razorpay:BAD_REQUEST_ERROR"),
    (razorpay_error(429, "Too many requests", code="TOO_MANY_REQUESTS"), PaymentUnavailable,
     "razorpay:TOO_MANY_REQUESTS"),
    (razorpay_error(502, "Gateway error", code="GATEWAY_ERROR"), PaymentUnavailable, "razorpay:GATEWAY_ERROR"),
    (razorpay_error(401, "The api key provided is invalid"), PaymentUnavailable, "razorpay:auth"),
])
async def test_razorpay_errors_map_to_rejected_or_unavailable(
    razorpay_fake: FakeRazorpay, razorpay_gateway: RazorpayPaymentGateway, reply: Reply, error: type[Exception],
    code: str,
) -> None:
    razorpay_fake.next_replies.append(reply)
    with pytest.raises(error) as raised:
        await razorpay_gateway.create_link(link_request())
    assert getattr(raised.value, "code", None) == code


async def test_razorpay_refuses_below_one_rupee_and_a_wrong_key(
    http_client: httpx.AsyncClient, razorpay_fake: FakeRazorpay, razorpay_gateway: RazorpayPaymentGateway,
) -> None:
    with pytest.raises(PaymentRejected, match=r"atleast INR 1\.00") as raised:
        await razorpay_gateway.create_link(link_request(amount=Decimal("0.50")))
    assert raised.value.code == "razorpay:BAD_REQUEST_ERROR"
    wrong = RazorpayPaymentGateway(http_client, key_id=RAZORPAY_KEY_ID, key_secret="nope", base_url=razorpay_fake.url)
    with pytest.raises(PaymentUnavailable) as unavailable:
        await wrong.create_link(link_request())
    assert unavailable.value.code == "razorpay:auth" and razorpay_fake.links == []


async def test_razorpay_refund_request_and_unknown_payment(
    razorpay_fake: FakeRazorpay, razorpay_gateway: RazorpayPaymentGateway,
) -> None:
    refund_id = await razorpay_gateway.refund(RAZORPAY_PAYMENT, Decimal("5001.00"), currency="INR",
                                              idempotency_key="refund-pay-41-1")
    [request] = razorpay_fake.requests
    assert (request.path, request.body) == (f"/v1/payments/{RAZORPAY_PAYMENT}/refund", {"amount": 500100})
    assert request.headers["x-refund-idempotency"] == "refund-pay-41-1" and refund_id == "rfnd_00000000000001"
    with pytest.raises(PaymentRejected) as raised:
        await razorpay_gateway.refund("pay_unknown", Decimal("1"), currency="INR")
    assert raised.value.code == "razorpay:BAD_REQUEST_ERROR"


async def test_an_unreachable_provider_is_unavailable(http_client: httpx.AsyncClient, clock: FixedClock) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    gateways: list[PaymentGateway] = [
        RazorpayPaymentGateway(http_client, key_id=RAZORPAY_KEY_ID, key_secret=RAZORPAY_KEY_SECRET, base_url=closed),
        StripePaymentGateway(http_client, secret_key=STRIPE_SECRET_KEY, return_url=STRIPE_RETURN_URL, clock=clock,
                             base_url=closed),
    ]
    for gateway, code in zip(gateways, ("razorpay:network", "stripe:network"), strict=True):
        with pytest.raises(PaymentUnavailable) as raised:
            await gateway.create_link(link_request())
        assert raised.value.code == code


# Stripe specifics


async def test_stripe_session_request_is_exactly_the_documented_one(
    stripe_fake: FakeStripe, stripe_gateway: StripePaymentGateway,
) -> None:
    link = await stripe_gateway.create_link(link_request())
    [request] = stripe_fake.requests
    assert (request.method, request.path, request.headers["authorization"]) == (
        "POST", "/v1/checkout/sessions", f"Bearer {STRIPE_SECRET_KEY}")
    assert request.body == {
        "mode": "payment", "line_items[0][quantity]": "1", "line_items[0][price_data][currency]": "inr",
        "line_items[0][price_data][unit_amount]": "1234567",
        "line_items[0][price_data][product_data][name]": "Renewal of policy 7", "client_reference_id": "pay-41",
        "success_url": "https://renewals.example.com/paid?ref=pay-41", "metadata[caseId]": "7",
        "payment_intent_data[description]": "Renewal of policy 7", "payment_intent_data[metadata][reference]": "pay-41",
        "payment_intent_data[metadata][caseId]": "7", "customer_email": "ana@example.com",
        "expires_at": str(int((NOW + timedelta(hours=12)).timestamp())),
    }
    assert (link.provider_link_id, link.status) == ("cs_test_00000000000000000001", "open")
    assert link.url == "https://checkout.stripe.com/c/pay/cs_test_00000000000000000001"


@pytest.mark.parametrize(("asked", "sent"), [
    (timedelta(days=10), timedelta(hours=24) - timedelta(minutes=1)),
    (timedelta(minutes=5), timedelta(minutes=31)),
    (timedelta(hours=3), timedelta(hours=3)),
])
async def test_stripe_expiry_is_clamped_into_stripes_window(
    stripe_fake: FakeStripe, stripe_gateway: StripePaymentGateway, asked: timedelta, sent: timedelta,
) -> None:
    await stripe_gateway.create_link(link_request(expire_at=NOW + asked, callback_url=None))
    [form] = stripe_fake.sessions
    assert form["expires_at"] == str(int((NOW + sent).timestamp()))
    assert form["success_url"] == STRIPE_RETURN_URL


async def test_stripe_refund_request_and_errors(stripe_fake: FakeStripe, stripe_gateway: StripePaymentGateway) -> None:
    refund_id = await stripe_gateway.refund(STRIPE_INTENT, Decimal("100"), currency="INR", idempotency_key="rf-1")
    [request] = stripe_fake.requests
    assert (request.path, request.body) == ("/v1/refunds", {"payment_intent": STRIPE_INTENT, "amount": "10000"})
    assert request.headers["idempotency-key"] == "rf-1" and refund_id.startswith("re_")
    with pytest.raises(PaymentRejected) as raised:
        await stripe_gateway.refund("pi_unknown", Decimal("1"), currency="INR")
    assert raised.value.code == "stripe:resource_missing"
    stripe_fake.next_replies.append(stripe_error(429, "Too many requests", error_type="rate_limit_error",
                                                 code="rate_limit"))
    with pytest.raises(PaymentUnavailable) as throttled:
        await stripe_gateway.refund(STRIPE_INTENT, Decimal("1"), currency="INR")
    assert throttled.value.code == "stripe:rate_limit"


async def test_stripe_wrong_key_is_unavailable(http_client: httpx.AsyncClient, stripe_fake: FakeStripe,
                                               clock: FixedClock) -> None:
    wrong = StripePaymentGateway(http_client, secret_key="sk_test_wrong", return_url=STRIPE_RETURN_URL, clock=clock,
                                 base_url=stripe_fake.url)
    with pytest.raises(PaymentUnavailable) as raised:
        await wrong.create_link(link_request())
    assert raised.value.code == "stripe:auth" and stripe_fake.sessions == []


# Webhooks common to every provider


@dataclass(frozen=True)
class WebhooksUnderTest:
    name: str
    webhooks: PaymentWebhooks
    paid: Callable[[str, Decimal], tuple[dict[str, str], bytes]]  # a signed "paid" delivery for (reference, amount)
    payment_id: str


def razorpay_delivery(payload: dict[str, Any], event_id: str | None = "Gb5kMCdcAZ8jJ8") -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload).encode()
    headers = {"X-Razorpay-Signature": razorpay_signature(RAZORPAY_WEBHOOK_SECRET, body)}
    return ({**headers, "x-razorpay-event-id": event_id} if event_id else headers), body


def stripe_delivery(event: dict[str, Any], signed_at: datetime = NOW) -> tuple[dict[str, str], bytes]:
    body = json.dumps(event).encode()
    return {"Stripe-Signature": stripe_signature_header(STRIPE_SIGNING_SECRET, body, signed_at)}, body


@pytest.fixture(params=["memory", "dev", "razorpay", "stripe"])
def webhooks_under_test(request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock) -> WebhooksUnderTest:
    if request.param == "memory":
        memory = InMemoryPaymentWebhooks()

        def memory_paid(reference: str, amount: Decimal) -> tuple[dict[str, str], bytes]:
            return memory.signed(PaymentEvent(
                provider="memory", event_id="mem-evt-1", kind="paid", type="paid", reference=reference,
                provider_payment_id="mem-pay-1", amount=amount, currency="INR", method="card", at=NOW, raw={}))
        return WebhooksUnderTest("memory", memory, memory_paid, "mem-pay-1")
    if request.param == "dev":
        gateway = DevPaymentGateway(tmp_path, public_api_url=PUBLIC_API_URL, clock=clock)

        def dev_paid(reference: str, amount: Decimal) -> tuple[dict[str, str], bytes]:
            [link] = gateway.links()
            assert (link.reference, link.amount) == (reference, amount)
            return dev_paid_event(DEV_SECRET, link, at=NOW)
        return WebhooksUnderTest("dev", DevPaymentWebhooks(DEV_SECRET), dev_paid, "dev-pay-1")
    if request.param == "razorpay":
        return WebhooksUnderTest(
            "razorpay", RazorpayWebhooks(RAZORPAY_WEBHOOK_SECRET),
            lambda reference, amount: razorpay_delivery(razorpay_link_paid(reference=reference,
                                                                           amount=int(amount * 100))),
            RAZORPAY_PAYMENT)
    return WebhooksUnderTest(
        "stripe", StripeWebhooks(STRIPE_SIGNING_SECRET),
        lambda reference, amount: stripe_delivery(stripe_event(
            "checkout.session.completed", stripe_session(reference=reference, amount=int(amount * 100)))),
        STRIPE_INTENT)


async def make_dev_link_if_needed(case: WebhooksUnderTest, tmp_path: Path, clock: FixedClock) -> None:
    if case.name == "dev":
        await DevPaymentGateway(tmp_path, public_api_url=PUBLIC_API_URL, clock=clock).create_link(link_request())


async def test_a_paid_delivery_is_read(webhooks_under_test: WebhooksUnderTest, tmp_path: Path,
                                       clock: FixedClock) -> None:
    await make_dev_link_if_needed(webhooks_under_test, tmp_path, clock)
    headers, body = webhooks_under_test.paid("pay-41", Decimal("12345.67"))
    [event] = webhooks_under_test.webhooks.parse(headers, body, NOW)
    assert (event.provider, event.kind, event.reference) == (webhooks_under_test.name, "paid", "pay-41")
    assert (event.amount, event.currency) == (Decimal("12345.67"), "INR")
    assert event.provider_payment_id == webhooks_under_test.payment_id
    assert event.event_id and event.at.tzinfo is not None and event.raw


async def test_a_redelivery_keeps_its_event_id(webhooks_under_test: WebhooksUnderTest, tmp_path: Path,
                                               clock: FixedClock) -> None:
    await make_dev_link_if_needed(webhooks_under_test, tmp_path, clock)
    headers, body = webhooks_under_test.paid("pay-41", Decimal("12345.67"))
    first, second = (webhooks_under_test.webhooks.parse(headers, body, NOW)[0] for _ in range(2))
    assert first.event_id == second.event_id and first == second


async def test_a_tampered_or_unsigned_delivery_is_refused(webhooks_under_test: WebhooksUnderTest, tmp_path: Path,
                                                          clock: FixedClock) -> None:
    await make_dev_link_if_needed(webhooks_under_test, tmp_path, clock)
    headers, body = webhooks_under_test.paid("pay-41", Decimal("12345.67"))
    tampered = body.replace(b"pay-41", b"pay-42")
    assert tampered != body
    with pytest.raises(InvalidSignature):
        webhooks_under_test.webhooks.parse(headers, tampered, NOW)
    with pytest.raises(InvalidSignature):
        webhooks_under_test.webhooks.parse({}, body, NOW)
    lowered = {name.lower(): value for name, value in headers.items()}
    assert webhooks_under_test.webhooks.parse(lowered, body, NOW)[0].reference == "pay-41"


def test_a_signed_body_that_is_not_json_is_malformed() -> None:
    headers, _ = razorpay_delivery({})
    body = b"not json"
    headers["X-Razorpay-Signature"] = razorpay_signature(RAZORPAY_WEBHOOK_SECRET, body)
    with pytest.raises(MalformedWebhook):
        RazorpayWebhooks(RAZORPAY_WEBHOOK_SECRET).parse(headers, body, NOW)
    with pytest.raises(MalformedWebhook):
        StripeWebhooks(STRIPE_SIGNING_SECRET).parse(
            {"Stripe-Signature": stripe_signature_header(STRIPE_SIGNING_SECRET, body, NOW)}, body, NOW)


# Webhooks: Razorpay specifics


@pytest.mark.parametrize(("payload", "kind", "reference", "amount"), [
    (razorpay_payment_event("payment.captured", amount=1234567), "paid", None, Decimal("12345.67")),
    (razorpay_payment_event("payment.failed", amount=1234567), "failed", None, Decimal("12345.67")),
    (razorpay_refund_processed(amount=4000), "refunded", None, Decimal("40.00")),
    ({**razorpay_link_paid(reference="pay-41", amount=100), "event": "payment_link.expired"}, "expired", "pay-41",
     Decimal("1.00")),
    ({**razorpay_payment_event("payment.authorized", amount=100)}, "other", None, Decimal("1.00")),
])
def test_razorpay_event_types(payload: dict[str, Any], kind: str, reference: str | None, amount: Decimal) -> None:
    [event] = RazorpayWebhooks(RAZORPAY_WEBHOOK_SECRET).parse(*razorpay_delivery(payload), NOW)
    assert (event.kind, event.type, event.reference, event.amount) == (kind, payload["event"], reference, amount)
    assert event.provider_payment_id == RAZORPAY_PAYMENT and event.event_id == "Gb5kMCdcAZ8jJ8"


def test_razorpay_paid_event_details() -> None:
    [event] = RazorpayWebhooks(RAZORPAY_WEBHOOK_SECRET).parse(
        *razorpay_delivery(razorpay_link_paid(reference="pay-41", amount=10000)), NOW)
    assert (event.method, event.provider_link_id) == ("netbanking", "plink_FOGqq3O6E5bkml")
    assert event.at == datetime.fromtimestamp(1596890289, UTC)
    [refund] = RazorpayWebhooks(RAZORPAY_WEBHOOK_SECRET).parse(
        *razorpay_delivery(razorpay_refund_processed(amount=4000)), NOW)
    assert refund.provider_refund_id == "rfnd_Heax5rxucwf2aS"


def test_razorpay_event_without_event_id_header_gets_one_from_its_body() -> None:
    webhooks = RazorpayWebhooks(RAZORPAY_WEBHOOK_SECRET)
    paid = razorpay_delivery(razorpay_link_paid(reference="pay-41", amount=100), event_id=None)
    other = razorpay_delivery(razorpay_link_paid(reference="pay-42", amount=100), event_id=None)
    first, again, different = (webhooks.parse(*delivery, NOW)[0] for delivery in (paid, paid, other))
    assert first.event_id == again.event_id != different.event_id
    assert first.event_id.startswith("sha256:")


def test_razorpay_refuses_a_delivery_signed_with_another_secret() -> None:
    headers, body = razorpay_delivery(razorpay_link_paid(reference="pay-41", amount=100))
    with pytest.raises(InvalidSignature):
        RazorpayWebhooks("another-secret").parse(headers, body, NOW)


# Webhooks: Stripe specifics


@pytest.mark.parametrize(("signed_at", "accepted"), [
    (NOW - timedelta(seconds=299), True), (NOW + timedelta(seconds=299), True),
    (NOW - timedelta(seconds=301), False), (NOW + timedelta(seconds=301), False), (NOW - timedelta(days=1), False),
])
def test_stripe_timestamp_tolerance(signed_at: datetime, accepted: bool) -> None:
    delivery = stripe_delivery(stripe_event("checkout.session.completed",
                                            stripe_session(reference="pay-41", amount=100)), signed_at)
    webhooks = StripeWebhooks(STRIPE_SIGNING_SECRET)
    if accepted:
        assert webhooks.parse(*delivery, NOW)[0].kind == "paid"
    else:
        with pytest.raises(InvalidSignature):
            webhooks.parse(*delivery, NOW)


@pytest.mark.parametrize(("event", "kind", "reference", "amount"), [
    (stripe_event("checkout.session.completed",
                  stripe_session(reference="pay-41", amount=500, payment_status="unpaid")), "other", "pay-41",
     Decimal("5.00")),
    (stripe_event("checkout.session.async_payment_succeeded", stripe_session(reference="pay-41", amount=500)),
     "paid", "pay-41", Decimal("5.00")),
    (stripe_event("checkout.session.async_payment_failed",
                  stripe_session(reference="pay-41", amount=500, payment_status="unpaid")), "failed", "pay-41",
     Decimal("5.00")),
    (stripe_event("checkout.session.expired", stripe_session(reference="pay-41", amount=500, status="expired",
                                                             payment_status="unpaid", payment_intent=None)),
     "expired", "pay-41", Decimal("5.00")),
    (stripe_event("charge.refunded", stripe_charge(reference="pay-41", amount=10000, amount_refunded=7500),
                  previous={"amount_refunded": 2500}), "refunded", "pay-41", Decimal("50.00")),
    (stripe_event("charge.refunded", stripe_charge(reference=None, amount=10000, amount_refunded=10000)),
     "refunded", None, Decimal("100.00")),
    (stripe_event("payment_intent.created", {"id": STRIPE_INTENT, "object": "payment_intent"}), "other", None, None),
])
def test_stripe_event_types(event: dict[str, Any], kind: str, reference: str | None, amount: Decimal | None) -> None:
    [parsed] = StripeWebhooks(STRIPE_SIGNING_SECRET).parse(*stripe_delivery(event), NOW)
    assert (parsed.kind, parsed.type, parsed.reference, parsed.amount) == (kind, event["type"], reference, amount)
    assert parsed.event_id == event["id"] and parsed.at == datetime.fromtimestamp(event["created"], UTC)


def test_stripe_paid_event_details() -> None:
    [event] = StripeWebhooks(STRIPE_SIGNING_SECRET).parse(
        *stripe_delivery(stripe_event("checkout.session.completed", stripe_session(reference="pay-41", amount=9))), NOW)
    assert (event.provider_payment_id, event.provider_link_id, event.method) == (STRIPE_INTENT, "cs_test_a1b2c3",
                                                                                 "card")
    assert (event.amount, event.currency) == (Decimal("0.09"), "INR")


# Dev specifics


async def test_dev_checkout_finds_the_latest_link_and_its_paid_event(tmp_path: Path, clock: FixedClock) -> None:
    gateway = DevPaymentGateway(tmp_path, public_api_url=PUBLIC_API_URL + "/", clock=clock)
    await gateway.create_link(link_request(amount=Decimal("10.00")))
    latest = await gateway.create_link(link_request(amount=Decimal("20.00")))
    assert latest.url == f"{PUBLIC_API_URL}/dev/pay/pay-41"
    found = await gateway.find_link("pay-41")
    assert found is not None and (found.id, found.amount, found.case_id) == (latest.provider_link_id,
                                                                              Decimal("20.00"), 7)
    assert found.expire_at == NOW + timedelta(hours=12) and await gateway.find_link("pay-404") is None
    [event] = DevPaymentWebhooks(DEV_SECRET).parse(*dev_paid_event(DEV_SECRET, found, at=NOW), NOW)
    assert (event.provider_payment_id, event.provider_link_id, event.amount) == ("dev-pay-2", "dev-plink-2",
                                                                                 Decimal("20.00"))
