"""Helpers of the payments contract suite: local fakes of Razorpay and Stripe, and documented webhook payloads.

FakeRazorpay follows https://razorpay.com/docs/api/payments/payment-links/create-standard/ and
https://razorpay.com/docs/api/refunds/create-normal/: HTTP Basic auth with key_id:key_secret, JSON bodies of
documented fields, answers of the documented entities or `{"error": {code, description, source, step, reason,
metadata, field}}`. FakeStripe follows https://docs.stripe.com/api/checkout/sessions/create and
https://docs.stripe.com/api/refunds/create: Bearer secret key, form bodies, the Session / Refund objects or
`{"error": {type, code, message, param}}`. Both record every request; `next_replies` are answered first.
Webhook payloads are trimmed copies of the documented samples (Razorpay's payment-links, payments and refunds
payload pages; Stripe's event object with a checkout.session / charge).
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.local_http import BackgroundHttpServer

RAZORPAY_KEY_ID = "rzp_test_1DP5mmOlF5G5ag"
RAZORPAY_KEY_SECRET = "fake-key-secret"
RAZORPAY_WEBHOOK_SECRET = "fake-razorpay-webhook-secret"
STRIPE_SECRET_KEY = "sk_test_fake"
STRIPE_SIGNING_SECRET = "whsec_fake"
STRIPE_RETURN_URL = "https://renewals.example.com/payments/return"
RAZORPAY_LINK_FIELDS = frozenset({  # documented parameters of "Create a Standard Payment Link"
    "amount", "currency", "accept_partial", "first_min_partial_amount", "expire_by", "reference_id", "description",
    "customer", "notify", "reminder_enable", "notes", "callback_url", "callback_method", "upi_link", "options",
})
STRIPE_SESSION_FIELDS = frozenset({
    "mode", "line_items[0][quantity]", "line_items[0][price_data][currency]",
    "line_items[0][price_data][unit_amount]", "line_items[0][price_data][product_data][name]",
    "client_reference_id", "success_url", "cancel_url", "expires_at", "customer_email", "metadata[caseId]",
    "payment_intent_data[description]", "payment_intent_data[metadata][reference]",
    "payment_intent_data[metadata][caseId]",
})


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: Any  # the decoded JSON (Razorpay) or {name: value} form (Stripe)


@dataclass
class FakeProvider:
    """A provider API on 127.0.0.1; subclasses implement `route`."""

    requests: list[Recorded] = field(default_factory=list)
    next_replies: list[Reply] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._http = BackgroundHttpServer(self._handler())

    @property
    def url(self) -> str:
        return self._http.url

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    def decode(self, headers: dict[str, str], raw: bytes) -> Any:
        raise NotImplementedError

    def route(self, request: Recorded) -> Reply:
        raise NotImplementedError

    def answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        with self._lock:
            try:
                body = self.decode(headers, raw)
            except ValueError as exc:
                self.violations.append(f"undecodable body: {exc}")
                body = None
            request = Recorded(method, path, headers, body)
            self.requests.append(request)
            if self.next_replies:
                return self.next_replies.pop(0)
            return self.route(request)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                reply = fake.answer("POST", self.path, headers, raw)
                payload = json.dumps(reply.body).encode()
                self.send_response_only(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def razorpay_error(status: int, description: str, *, code: str = "BAD_REQUEST_ERROR", field: str | None = None,
                   reason: str = "input_validation_failed") -> Reply:
    return Reply(status, {"error": {"code": code, "description": description, "source": "business",
                                    "step": "payment_initiation", "reason": reason, "metadata": {}, "field": field}})


class FakeRazorpay(FakeProvider):
    captured_payments: set[str]

    def __post_init__(self) -> None:
        super().__post_init__()
        self.captured_payments = {"pay_FOGsH8uHkF2FbR"}
        self.links: list[dict[str, Any]] = []
        self.refunds: list[tuple[str, dict[str, Any]]] = []

    def decode(self, headers: dict[str, str], raw: bytes) -> Any:
        if headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise ValueError(f"Content-Type {headers.get('content-type')!r} is not JSON")
        return json.loads(raw)

    def _authenticated(self, headers: dict[str, str]) -> bool:
        scheme, _, encoded = headers.get("authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except ValueError:
            return False
        return scheme == "Basic" and (user, password) == (RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET)

    def route(self, request: Recorded) -> Reply:
        if not self._authenticated(request.headers):
            return razorpay_error(401, "The api key provided is invalid", reason="NA")
        if not isinstance(request.body, dict):
            return razorpay_error(400, "The request body is not JSON")
        if request.path == "/v1/payment_links":
            return self._create_link(request.body)
        prefix, suffix = "/v1/payments/", "/refund"
        if request.path.startswith(prefix) and request.path.endswith(suffix):
            return self._refund(request.path[len(prefix):-len(suffix)], request.body)
        return razorpay_error(404, "The requested URL was not found on the server.", code="NOT_FOUND")

    def _create_link(self, body: dict[str, Any]) -> Reply:
        if unknown := sorted(set(body) - RAZORPAY_LINK_FIELDS):
            self.violations.append(f"undocumented fields {unknown}")
            return razorpay_error(400, f"{unknown[0]} is/are not required and should not be sent", field=unknown[0])
        amount = body.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool):
            return razorpay_error(400, "The amount must be an integer.", field="amount")
        if amount < 100:
            return razorpay_error(400, "The amount must be atleast INR 1.00", field="amount")
        if any(link["reference_id"] == body.get("reference_id") for link in self.links):
            return razorpay_error(400, "Payment Link with the same reference id already exists", field="reference_id")
        link_id = f"plink_{len(self.links) + 1:014d}"
        entity = {
            "accept_partial": body.get("accept_partial", False), "amount": amount, "amount_paid": 0,
            "callback_method": body.get("callback_method", ""), "callback_url": body.get("callback_url", ""),
            "cancelled_at": 0, "created_at": 1796115600, "currency": body.get("currency", "INR"),
            "customer": body.get("customer", {}), "description": body.get("description", ""),
            "expire_by": body.get("expire_by", 0), "expired_at": 0, "first_min_partial_amount": 0, "id": link_id,
            "notes": body.get("notes"), "notify": body.get("notify", {"email": True, "sms": True}), "payments": None,
            "reference_id": body.get("reference_id", ""), "reminder_enable": body.get("reminder_enable", True),
            "reminders": [], "short_url": f"https://rzp.io/i/{link_id[-6:]}", "status": "created",
            "updated_at": 1796115600, "upi_link": False, "user_id": "",
        }
        self.links.append(entity)
        return Reply(200, entity)

    def _refund(self, payment_id: str, body: dict[str, Any]) -> Reply:
        if payment_id not in self.captured_payments:
            return razorpay_error(400, "The id provided does not exist", reason="NA")
        refund_id = f"rfnd_{len(self.refunds) + 1:014d}"
        self.refunds.append((payment_id, body))
        return Reply(200, {"id": refund_id, "entity": "refund", "amount": body.get("amount"), "currency": "INR",
                           "payment_id": payment_id, "notes": [], "receipt": None, "acquirer_data": {"arn": None},
                           "created_at": 1796115600, "batch_id": None, "status": "processed",
                           "speed_processed": "normal", "speed_requested": "normal"})


def stripe_error(status: int, message: str, *, error_type: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None) -> Reply:
    error = {"type": error_type, "message": message, **({"code": code} if code else {}),
             **({"param": param} if param else {})}
    return Reply(status, {"error": error})


class FakeStripe(FakeProvider):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.payment_intents = {"pi_3MtwBwLkdIwHu7ix28a3tqPa"}
        self.sessions: list[dict[str, str]] = []
        self.refunds: list[dict[str, str]] = []

    def decode(self, headers: dict[str, str], raw: bytes) -> Any:
        if headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            raise ValueError(f"Content-Type {headers.get('content-type')!r} is not a form")
        form = parse_qs(raw.decode(), keep_blank_values=True, strict_parsing=bool(raw))
        if repeated := [name for name, values in form.items() if len(values) > 1]:
            raise ValueError(f"repeated {repeated}")
        return {name: values[0] for name, values in form.items()}

    def route(self, request: Recorded) -> Reply:
        if request.headers.get("authorization") != f"Bearer {STRIPE_SECRET_KEY}":
            return stripe_error(401, "Invalid API Key provided: sk_test_****")
        if not isinstance(request.body, dict):
            return stripe_error(400, "Invalid request body")
        if request.path == "/v1/checkout/sessions":
            return self._create_session(request.body)
        if request.path == "/v1/refunds":
            return self._refund(request.body)
        return stripe_error(404, f"Unrecognized request URL (POST: {request.path}).")

    def _create_session(self, form: dict[str, str]) -> Reply:
        if unknown := sorted(set(form) - STRIPE_SESSION_FIELDS):
            self.violations.append(f"unexpected parameters {unknown}")
            return stripe_error(400, f"Received unknown parameter: {unknown[0]}", code="parameter_unknown",
                                param=unknown[0])
        currency = form.get("line_items[0][price_data][currency]", "")
        if currency != currency.lower():
            return stripe_error(400, "Invalid currency", code="parameter_invalid_string", param="currency")
        amount = form.get("line_items[0][price_data][unit_amount]", "")
        if not amount.isdigit():
            return stripe_error(400, "Invalid integer", code="parameter_invalid_integer",
                                param="line_items[0][price_data][unit_amount]")
        session_id = f"cs_test_{len(self.sessions) + 1:020d}"
        self.sessions.append(form)
        return Reply(200, {
            "id": session_id, "object": "checkout.session", "amount_subtotal": int(amount),
            "amount_total": int(amount), "client_reference_id": form.get("client_reference_id"),
            "currency": currency, "customer_email": form.get("customer_email"),
            "expires_at": int(form.get("expires_at", "1796202000")),
            "metadata": {"caseId": form.get("metadata[caseId]")},
            "mode": "payment", "payment_intent": None, "payment_status": "unpaid", "status": "open",
            "success_url": form.get("success_url"), "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        })

    def _refund(self, form: dict[str, str]) -> Reply:
        intent = form.get("payment_intent")
        if intent not in self.payment_intents:
            return stripe_error(400, f"No such payment_intent: '{intent}'", code="resource_missing",
                                param="payment_intent")
        self.refunds.append(form)
        return Reply(200, {"id": f"re_{len(self.refunds):024d}", "object": "refund", "amount": int(form["amount"]),
                           "charge": "ch_3MtwBwLkdIwHu7ix28a3tqPa", "created": 1796115600, "currency": "inr",
                           "metadata": {}, "payment_intent": intent, "reason": None, "status": "succeeded"})


def razorpay_link_paid(*, reference: str, amount: int, payment_id: str = "pay_FOGsH8uHkF2FbR",
                       link_id: str = "plink_FOGqq3O6E5bkml") -> dict[str, Any]:
    """The documented `payment_link.paid` sample (https://razorpay.com/docs/webhooks/payloads/payment-links/)."""
    return {
        "account_id": "acc_DKoeHMNpi0nC7k", "contains": ["payment", "order", "payment_link"], "created_at": 1596890208,
        "entity": "event", "event": "payment_link.paid",
        "payload": {
            "order": {"entity": {"amount": amount, "amount_due": 0, "amount_paid": amount, "currency": "INR",
                                 "entity": "order", "id": "order_FOGs9Hz3ZaAjsm", "status": "paid"}},
            "payment": {"entity": razorpay_payment(payment_id, amount, status="captured")},
            "payment_link": {"entity": {
                "accept_partial": False, "amount": amount, "amount_paid": amount, "currency": "INR",
                "created_at": 1596890208, "id": link_id, "reference_id": reference, "status": "paid",
                "notes": {"caseId": "7"}, "short_url": "https://rzp.io/i/0ZgqZ9q"}},
        },
    }


def razorpay_payment(payment_id: str, amount: int, *, status: str) -> dict[str, Any]:
    return {"id": payment_id, "entity": "payment", "amount": amount, "currency": "INR", "status": status,
            "order_id": "order_FOGs9Hz3ZaAjsm", "method": "netbanking", "amount_refunded": 0, "captured": True,
            "bank": "HDFC", "email": "gaurav.kumar@example.com", "contact": "+919988998899", "notes": [],
            "error_code": None if status != "failed" else "BAD_REQUEST_ERROR", "created_at": 1596890289}


def razorpay_payment_event(event: str, *, amount: int, payment_id: str = "pay_FOGsH8uHkF2FbR") -> dict[str, Any]:
    """`payment.captured` / `payment.failed` (https://razorpay.com/docs/webhooks/payloads/payments/)."""
    status = "failed" if event == "payment.failed" else "captured"
    return {"entity": "event", "account_id": "acc_BFQ7uQEaa7j2z7", "event": event, "contains": ["payment"],
            "payload": {"payment": {"entity": razorpay_payment(payment_id, amount, status=status)}},
            "created_at": 1596890290}


def razorpay_refund_processed(*, amount: int, payment_id: str = "pay_FOGsH8uHkF2FbR") -> dict[str, Any]:
    """`refund.processed` (https://razorpay.com/docs/webhooks/payloads/refunds/)."""
    return {"entity": "event", "account_id": "acc_C22WOuBW79sh0n", "event": "refund.processed",
            "contains": ["refund", "payment"],
            "payload": {"refund": {"entity": {"id": "rfnd_Heax5rxucwf2aS", "entity": "refund", "amount": amount,
                                              "currency": "INR", "payment_id": payment_id, "notes": [],
                                              "status": "processed", "created_at": 1627528610}},
                        "payment": {"entity": razorpay_payment(payment_id, 1234567, status="refunded")}},
            "created_at": 1627528610}


def stripe_event(event_type: str, data_object: dict[str, Any], *, event_id: str = "evt_1NG8Du2eZvKYlo2CUI79vXWy",
                 created: int = 1796115700, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """An event (https://docs.stripe.com/api/events/object) around `data_object`."""
    data: dict[str, Any] = {"object": data_object, **({"previous_attributes": previous} if previous else {})}
    return {"id": event_id, "object": "event", "api_version": "2024-06-20", "created": created, "data": data,
            "livemode": False, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
            "type": event_type}


def stripe_session(*, reference: str, amount: int, payment_status: str = "paid", status: str = "complete",
                   payment_intent: str | None = "pi_3MtwBwLkdIwHu7ix28a3tqPa") -> dict[str, Any]:
    """A Checkout Session as `checkout.session.*` events carry it (stripe-ruby-mock's payment-mode fixture)."""
    return {"id": "cs_test_a1b2c3", "object": "checkout.session", "amount_subtotal": amount, "amount_total": amount,
            "client_reference_id": reference, "currency": "inr", "customer": None,
            "customer_details": {"email": "ana@example.com"}, "metadata": {"caseId": "7"}, "mode": "payment",
            "payment_intent": payment_intent, "payment_method_types": ["card"], "payment_status": payment_status,
            "status": status, "success_url": STRIPE_RETURN_URL, "url": None}


def stripe_charge(*, reference: str | None, amount: int, amount_refunded: int) -> dict[str, Any]:
    """A charge as `charge.refunded` carries it (https://docs.stripe.com/api/charges/object)."""
    return {"id": "ch_3MtwBwLkdIwHu7ix28a3tqPa", "object": "charge", "amount": amount,
            "amount_captured": amount, "amount_refunded": amount_refunded, "currency": "inr",
            "metadata": {"reference": reference} if reference else {}, "paid": True,
            "payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa", "payment_method_details": {"type": "card"},
            "refunded": amount_refunded == amount, "status": "succeeded"}
