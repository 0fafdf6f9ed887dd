"""Payments over HTTP on PostgreSQL: links, signed Razorpay / Stripe / dev webhooks, duplicates, refunds."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from sqlalchemy import func, select, text

from adapters.payments.dev import DevPaymentGateway, DevPaymentWebhooks
from adapters.payments.razorpay import RazorpayPaymentGateway, RazorpayWebhooks
from adapters.payments.stripe import StripePaymentGateway, StripeWebhooks
from adapters.sqlalchemy.tables.payments import payment_events
from application.payments.config import PaymentsConfig
from entrypoints.container import AppContainer
from entrypoints.payments_container import dev_webhook_secret
from entrypoints.worker.payments_tasks import apply_event
from tests.conftest import NOW
from tests.contract.payments_support import (
    RAZORPAY_KEY_ID,
    RAZORPAY_KEY_SECRET,
    STRIPE_RETURN_URL,
    STRIPE_SECRET_KEY,
    FakeRazorpay,
    FakeStripe,
    razorpay_link_paid,
    stripe_charge,
    stripe_event,
    stripe_session,
)
from tests.identity_support import EVERYTHING_ROLE, bearer, make_user, token_for
from tests.unit.application.payments_support import open_case

RAZORPAY_SECRET = "e2e-razorpay-webhook-secret"
STRIPE_SECRET = "whsec_e2e"
PAYMENT = "pay_FOGsH8uHkF2FbR"  # the documented samples' payment and intent
INTENT = "pi_3MtwBwLkdIwHu7ix28a3tqPa"


class Api:
    def __init__(self, http: httpx.AsyncClient, container: AppContainer, token: str) -> None:
        self.http, self.container, self.headers = http, container, bearer(token)

    async def as_role(self, role: str) -> dict[str, str]:
        return bearer(await token_for(self.container, await make_user(self.container, role)))

    async def link(self, case_id: int, **body: Any) -> httpx.Response:
        return await self.http.post(f"/api/cases/case-{case_id}/payment-link",
                                    json={"channel": "email", **body}, headers=self.headers)

    async def payment(self, ident: str = "pay-1") -> dict[str, Any]:
        response = await self.http.get(f"/api/payments/{ident}", headers=self.headers)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    async def events(self) -> int:
        engine = self.container.adapters.engine()
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(payment_events))).scalar_one())

    async def run_jobs(self) -> list[str]:
        """Run the queued payments.apply_event jobs through the worker task, as the worker would."""
        engine = self.container.adapters.engine()
        async with engine.begin() as conn:
            rows = (await conn.execute(text(
                "UPDATE outbox SET relayed_at = now() WHERE relayed_at IS NULL AND job_name = 'payments.apply_event' "
                "RETURNING id, args"))).all()
        ctx = {"payments": self.container.payments, "job_try": 1}
        return [await apply_event(ctx, **dict(r.args)) for r in sorted(rows, key=lambda r: int(r.id))]


@pytest.fixture
async def api(anonymous: httpx.AsyncClient, sql_container: AppContainer, tmp_path: Path) -> AsyncIterator[Api]:
    sql_container.payments.parsers.override(providers.Object({
        "razorpay": RazorpayWebhooks(RAZORPAY_SECRET), "stripe": StripeWebhooks(STRIPE_SECRET),
        "dev": DevPaymentWebhooks(dev_webhook_secret(sql_container.settings))}))
    sql_container.payments.dev_gateway.override(providers.Object(DevPaymentGateway(
        tmp_path, public_api_url="http://testserver/api/payments", clock=sql_container.core.clock())))
    await sql_container.messaging.templates().seed_starter_library()
    user = await make_user(sql_container, EVERYTHING_ROLE)
    yield Api(anonymous, sql_container, await token_for(sql_container, user))


@pytest.fixture
async def razorpay(api: Api) -> AsyncIterator[FakeRazorpay]:
    fake = FakeRazorpay()
    fake.start()
    async with httpx.AsyncClient() as client:
        api.container.payments.gateway.override(providers.Object(RazorpayPaymentGateway(
            client, key_id=RAZORPAY_KEY_ID, key_secret=RAZORPAY_KEY_SECRET, base_url=fake.url)))
        api.container.payments.config.override(providers.Object(PaymentsConfig(provider="razorpay")))
        yield fake
    fake.stop()


@pytest.fixture
async def stripe(api: Api) -> AsyncIterator[FakeStripe]:
    fake = FakeStripe()
    fake.start()
    async with httpx.AsyncClient() as client:
        api.container.payments.gateway.override(providers.Object(StripePaymentGateway(
            client, secret_key=STRIPE_SECRET_KEY, return_url=STRIPE_RETURN_URL,
            clock=api.container.core.clock(), base_url=fake.url)))
        api.container.payments.config.override(providers.Object(PaymentsConfig(provider="stripe")))
        yield fake
    fake.stop()


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def razorpay_delivery(payload: dict[str, Any], event_id: str, secret: str = RAZORPAY_SECRET) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()  # as Razorpay signs: hex HMAC of body
    return {"content": body, "headers": {"X-Razorpay-Signature": signature, "X-Razorpay-Event-Id": event_id,
                                         "Content-Type": "application/json"}}


def stripe_delivery(payload: dict[str, Any], *, at: int | None = None, secret: str = STRIPE_SECRET) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    timestamp = int(NOW.timestamp()) if at is None else at
    signed = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"content": body, "headers": {"Stripe-Signature": f"t={timestamp},v1={signed}",
                                         "Content-Type": "application/json"}}


async def test_a_razorpay_link_paid_once_through_signed_webhooks(api: Api, razorpay: FakeRazorpay) -> None:
    case_id = await open_case(api.container, premium=Decimal("12500.50"))
    response = await api.link(case_id)
    assert response.status_code == 201, response.text
    created = response.json()["data"]
    assert (created["paymentId"], created["provider"], created["status"]) == ("pay-1", "razorpay", "link_sent")
    assert created["url"].startswith("https://rzp.io/i/") and created["messageId"].startswith("msg-")
    assert razorpay.links[0]["reference_id"] == "pay-1" and razorpay.links[0]["notes"] == {"caseId": str(case_id)}

    paid = razorpay_delivery(razorpay_link_paid(reference="pay-1", amount=1250050), "evt_paid_1")
    forged = {**paid, "headers": {**paid["headers"], "X-Razorpay-Signature": "0" * 64}}
    refused = await api.http.post("/api/webhooks/payments/razorpay", **forged)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "invalid_signature"
    assert await api.events() == 0
    for expected in (1, 0):  # the provider's retry of the same event is stored once
        answer = await api.http.post("/api/webhooks/payments/razorpay", **paid)
        assert answer.status_code == 200 and answer.json()["data"] == {"recorded": expected}
    assert await api.run_jobs() == ["pay-1: paid 12500.50 INR"]
    assert await api.run_jobs() == []
    payment = await api.payment()
    assert (payment["status"], money(payment["paidAmount"]), payment["providerPaymentId"], payment["method"]) == (
        "paid", Decimal("12500.50"), PAYMENT, "netbanking")
    listed = await api.http.get(f"/api/payments?caseId=case-{case_id}", headers=api.headers)
    assert listed.status_code == 200, listed.text
    assert [p["id"] for p in listed.json()["data"]["payments"]] == ["pay-1"]

    no_refunds = await api.as_role("all_modules_manager")
    denied = await api.http.post("/api/payments/pay-1/refund", json={"reason": "x"}, headers=no_refunds)
    assert denied.status_code == 403
    too_much = await api.http.post("/api/payments/pay-1/refund", json={"reason": "x", "amount": "20000"},
                                   headers=api.headers)
    assert too_much.status_code == 422 and too_much.json()["error"]["details"][0]["field"] == "amount"
    refunded = await api.http.post("/api/payments/pay-1/refund", json={"reason": "goodwill", "amount": "500.50"},
                                   headers=api.headers)
    assert refunded.status_code == 200, refunded.text
    assert (refunded.json()["data"]["status"], money(refunded.json()["data"]["refundedAmount"])) == (
        "partially_refunded", Decimal("500.50"))
    assert razorpay.refunds == [(PAYMENT, {"amount": 50050})]


async def test_stripe_checkout_webhooks_are_signed_with_a_fresh_timestamp(api: Api, stripe: FakeStripe) -> None:
    case_id = await open_case(api.container)
    response = await api.link(case_id)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["url"].startswith("https://checkout.stripe.com/")
    completed = stripe_event("checkout.session.completed", stripe_session(reference="pay-1", amount=1250050))
    stale = stripe_delivery(completed, at=int((NOW - timedelta(seconds=301)).timestamp()))
    assert (await api.http.post("/api/webhooks/payments/stripe", **stale)).status_code == 403
    wrong_secret = stripe_delivery(completed, secret="whsec_other")
    assert (await api.http.post("/api/webhooks/payments/stripe", **wrong_secret)).status_code == 403
    assert await api.events() == 0
    assert (await api.http.post("/api/webhooks/payments/stripe", **stripe_delivery(completed))).status_code == 200
    refund = stripe_event("charge.refunded", stripe_charge(reference="pay-1", amount=1250050, amount_refunded=1250050),
                          event_id="evt_refund", previous={"amount_refunded": 0})
    assert (await api.http.post("/api/webhooks/payments/stripe", **stripe_delivery(refund))).status_code == 200
    assert len(await api.run_jobs()) == 2
    payment = await api.payment()
    assert (payment["status"], payment["providerPaymentId"], money(payment["refundedAmount"])) == (
        "refunded", INTENT, Decimal("12500.50"))
    malformed = stripe_delivery({"id": "evt_x"})
    assert (await api.http.post("/api/webhooks/payments/stripe", **malformed)).status_code == 400


async def test_the_dev_checkout_pays_through_the_signed_dev_webhook(api: Api) -> None:
    case_id = await open_case(api.container)
    created = (await api.link(case_id)).json()["data"]
    assert created["provider"] == "dev" and created["url"] == "http://testserver/api/payments/dev/pay/pay-1"
    page = await api.http.get("/api/payments/dev/pay/pay-1")
    assert page.status_code == 200 and "Pay" in page.text and "12500" in page.text
    assert (await api.http.get("/api/payments/dev-checkout/dev-plink-1")).status_code == 200
    assert (await api.http.get("/api/payments/dev/pay/pay-99")).status_code == 404
    for _ in range(2):  # pressing twice delivers the same event twice
        paid = await api.http.post("/api/payments/dev/pay/pay-1")
        assert paid.status_code == 200 and "Payment received" in paid.text
    assert await api.events() == 1
    assert await api.run_jobs() == ["pay-1: paid 12500.50 INR"]
    assert (await api.payment())["status"] == "paid"
    forged = await api.http.post("/api/webhooks/payments/dev", content=b'{"id": "x"}',
                                 headers={"X-Dev-Signature": "00"})
    assert forged.status_code == 403 and await api.events() == 1


async def test_links_need_cases_write_and_the_case_in_scope(api: Api) -> None:
    case_id = await open_case(api.container)
    viewer = await api.as_role("viewer")
    response = await api.http.post(f"/api/cases/case-{case_id}/payment-link", json={"channel": "email"},
                                   headers=viewer)
    assert response.status_code == 403
    agent = await api.as_role("agent")
    response = await api.http.post(f"/api/cases/case-{case_id}/payment-link", json={"channel": "email"},
                                   headers=agent)
    assert response.status_code == 404
    bad = await api.link(case_id, amount="0", expiresInHours=0)
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"amount", "expiresInHours"}
    assert (await api.link(case_id, channel="fax")).status_code == 422
    assert (await api.http.get("/api/payments", headers=agent)).status_code == 403
    assert (await api.http.post("/api/webhooks/payments/paypal", content=b"{}")).status_code == 404
