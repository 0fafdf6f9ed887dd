"""Razorpay Payment Links and their webhooks, on an injected `httpx.AsyncClient`.

Followed:
- https://razorpay.com/docs/api/payments/payment-links/create-standard/ (POST /v1/payment_links, HTTP Basic auth with
  key_id:key_secret, JSON body; answers the Payment Link entity with `id` plink_..., `short_url`, `status` created).
- https://razorpay.com/docs/api/refunds/create-normal/ (POST /v1/payments/{id}/refund with `amount` in the smallest
  unit; answers the refund entity `rfnd_...`) and its idempotent variant (header `X-Refund-Idempotency`).
- https://razorpay.com/docs/payments/payment-gateway/rainy-day/errors (errors are
  `{"error": {"code", "description", "field", "source", "step", "reason", "metadata"}}`).
- https://razorpay.com/docs/webhooks/payloads/payment-links/ , .../payloads/payments/ and .../payloads/refunds/
  (event envelope `{"entity": "event", "event", "contains", "payload": {<entity>: {"entity": {...}}}, "created_at"}`)
  and https://razorpay.com/docs/webhooks/best-practices (the `x-razorpay-event-id` header is the same on every
  retry of one event: the dedup key).

Links: `reference_id` is our payment reference, `notes.caseId` the case, `notify` sms/email and `reminder_enable`
are off (we send the link and the reminders ourselves), partial payments are off, and `callback_url` is sent with
`callback_method=get` as the API requires.

Webhooks: `payment_link.paid` and `payment.captured` become "paid", `payment.failed` "failed", `refund.processed`
"refunded", `payment_link.expired`/`payment_link.cancelled` "expired", anything else "other". `payment.captured`
carries no reference_id (the link's notes go to its order, not the payment): match it by `provider_payment_id`;
the `payment_link.paid` of the same payment carries both.

Errors: 429, 409 (a refund with the same idempotency key still in progress) and 5xx raise PaymentUnavailable; 401
and 403 raise PaymentUnavailable `razorpay:auth` (a deployment problem); other 4xx raise PaymentRejected with code
`razorpay:<error.code>`; network errors PaymentUnavailable `razorpay:network`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from adapters.payments import (
    body_digest_event_id,
    from_minor_units,
    lower_headers,
    post_for_object,
    to_minor_units,
    unix_time,
)
from adapters.webhooks.razorpay_signature import SIGNATURE_HEADER, verify_razorpay
from application.ports.payments import (
    InvalidSignature,
    MalformedWebhook,
    PaymentEvent,
    PaymentEventKind,
    PaymentLink,
    PaymentLinkRequest,
    PaymentRejected,
    PaymentUnavailable,
)

__all__ = ["EVENT_ID_HEADER", "PROVIDER", "RazorpayPaymentGateway", "RazorpayWebhooks", "razorpay_error"]

PROVIDER = "razorpay"
EVENT_ID_HEADER = "x-razorpay-event-id"
_KINDS: dict[str, PaymentEventKind] = {
    "payment_link.paid": "paid", "payment.captured": "paid", "payment.failed": "failed",
    "refund.processed": "refunded", "payment_link.expired": "expired", "payment_link.cancelled": "expired",
}


def razorpay_error(response: httpx.Response) -> PaymentRejected | PaymentUnavailable:
    """Map an error answer to PaymentRejected or PaymentUnavailable (see the module doc)."""
    status = response.status_code
    try:
        error = response.json().get("error") or {}
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        error = {}
    code = str(error.get("code") or f"http_{status}") if isinstance(error, dict) else f"http_{status}"
    details = error if isinstance(error, dict) else {}
    field = f" (field {details['field']})" if details.get("field") else ""
    text = f"Razorpay HTTP {status} {code}: {details.get('description') or response.text[:200]}{field}"
    if status in (401, 403):
        return PaymentUnavailable(text, code="razorpay:auth")
    if status in (409, 429) or status >= 500:
        return PaymentUnavailable(text, code=f"razorpay:{code}")
    return PaymentRejected(text, code=f"razorpay:{code}")


class RazorpayPaymentGateway:
    def __init__(self, client: httpx.AsyncClient, *, key_id: str, key_secret: str,
                 base_url: str = "https://api.razorpay.com") -> None:
        """Wrap an open `httpx.AsyncClient` (its timeouts apply)."""
        if not key_id or not key_secret:
            raise ValueError("a Razorpay key id and key secret are required")
        self._client = client
        self._auth = httpx.BasicAuth(key_id, key_secret)
        self._base_url = base_url.rstrip("/")

    def link_body(self, request: PaymentLinkRequest) -> dict[str, Any]:
        """The JSON body of the Payment Link request for `request`."""
        body: dict[str, Any] = {
            "amount": to_minor_units(request.amount, request.currency),
            "currency": request.currency.upper(),
            "accept_partial": False,
            "reference_id": request.reference,
            "description": request.description,
            "notify": {"sms": False, "email": False},
            "reminder_enable": False,
        }
        customer = {key: value for key, value in (("name", request.customer_name),
                                                  ("email", request.customer_email),
                                                  ("contact", request.customer_phone)) if value}
        if customer:
            body["customer"] = customer
        if request.case_id is not None:
            body["notes"] = {"caseId": str(request.case_id)}
        if request.callback_url:
            body["callback_url"] = request.callback_url
            body["callback_method"] = "get"
        if request.expire_at is not None:
            body["expire_by"] = int(request.expire_at.timestamp())
        return body

    async def _post(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        return await post_for_object(self._client, f"{self._base_url}{path}", provider=PROVIDER,
                                     error=razorpay_error, json=body, auth=self._auth, headers=headers or {})

    async def create_link(self, request: PaymentLinkRequest) -> PaymentLink:
        """Create a Standard Payment Link; raises PaymentRejected or PaymentUnavailable."""
        answer = await self._post("/v1/payment_links", self.link_body(request))
        if not answer.get("short_url"):
            raise PaymentUnavailable("Razorpay answered without a short_url", code="razorpay:bad_response")
        return PaymentLink(provider=PROVIDER, provider_link_id=str(answer["id"]), url=str(answer["short_url"]),
                           status=str(answer.get("status") or "created"))

    async def refund(self, provider_payment_id: str, amount: Decimal, *, currency: str,
                     idempotency_key: str | None = None) -> str:
        """Create a normal refund of `amount` on payment `provider_payment_id`; returns the `rfnd_...` id."""
        if not provider_payment_id:
            raise PaymentRejected("a Razorpay payment id is required", code="invalid_payment_id")
        body = {"amount": to_minor_units(amount, currency)}
        headers = {"X-Refund-Idempotency": idempotency_key} if idempotency_key else None
        answer = await self._post(f"/v1/payments/{quote(provider_payment_id, safe='')}/refund", body, headers)
        if answer.get("status") == "failed":
            raise PaymentRejected(f"Razorpay refund {answer['id']} failed", code="razorpay:refund_failed")
        return str(answer["id"])


def _entity(payload: Mapping[str, Any], name: str) -> dict[str, Any]:
    wrapper = payload.get(name)
    entity = wrapper.get("entity") if isinstance(wrapper, dict) else None
    return entity if isinstance(entity, dict) else {}


class RazorpayWebhooks:
    def __init__(self, webhook_secret: str) -> None:
        """Check deliveries with the webhook secret set in the Dashboard (not the API key secret)."""
        if not webhook_secret:
            raise ValueError("a Razorpay webhook secret is required")
        self._secret = webhook_secret

    def parse(self, headers: Mapping[str, str], raw_body: bytes, now: datetime) -> list[PaymentEvent]:
        """Verify `X-Razorpay-Signature` and read the event; raises InvalidSignature or MalformedWebhook."""
        lowered = lower_headers(headers)
        if not verify_razorpay(self._secret, raw_body, lowered.get(SIGNATURE_HEADER.lower())):
            raise InvalidSignature("Razorpay webhook signature does not match")
        try:
            envelope = json.loads(raw_body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MalformedWebhook("Razorpay webhook body is not JSON") from exc
        if not isinstance(envelope, dict) or not isinstance(envelope.get("event"), str):
            raise MalformedWebhook("Razorpay webhook has no event type")
        payload = envelope.get("payload")
        if not isinstance(payload, dict):
            payload = {}
        event_type = envelope["event"]
        payment, link, refund = (_entity(payload, name) for name in ("payment", "payment_link", "refund"))
        notes = payment.get("notes")
        reference = link.get("reference_id") or (notes.get("reference") if isinstance(notes, dict) else None)
        subject = refund if event_type.startswith("refund.") else payment or link
        currency = subject.get("currency")
        amount = subject.get("amount")
        at = unix_time(subject.get("created_at"), unix_time(envelope.get("created_at"), now))
        return [PaymentEvent(
            provider=PROVIDER,
            event_id=lowered.get(EVENT_ID_HEADER) or body_digest_event_id(raw_body),
            kind=_KINDS.get(event_type, "other"),
            type=event_type,
            reference=str(reference) if reference else None,
            provider_payment_id=str(refund.get("payment_id") or payment.get("id") or "") or None,
            amount=from_minor_units(amount, currency) if isinstance(currency, str) and amount is not None else None,
            currency=currency.upper() if isinstance(currency, str) else None,
            method=str(payment["method"]) if payment.get("method") else None,
            at=at,
            raw=envelope,
            provider_link_id=str(link["id"]) if link.get("id") else None,
            provider_refund_id=str(refund["id"]) if refund.get("id") else None,
        )]
