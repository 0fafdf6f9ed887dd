"""Stripe Checkout Sessions and their webhooks, on an injected `httpx.AsyncClient`.

Followed:
- https://docs.stripe.com/api/checkout/sessions/create (POST /v1/checkout/sessions, form-encoded, `Authorization:
  Bearer <secret key>`; answers the Session with `id` cs_..., `url`, `status` open) and
  https://docs.stripe.com/payments/checkout/managing-limited-inventory (`expires_at` must be 30 minutes to 24 hours
  after creation).
- https://docs.stripe.com/api/refunds/create (POST /v1/refunds with `payment_intent` or `charge` and `amount`;
  answers the Refund `re_...` whose `status` may be pending, succeeded, failed or canceled) and
  https://docs.stripe.com/api/idempotent_requests (`Idempotency-Key`).
- https://docs.stripe.com/api/errors (`{"error": {"type", "code", "message", "param"}}`; 409 for a conflicting
  idempotent request, 429 for rate limits).
- https://docs.stripe.com/api/events/object (`id` evt_..., `type`, `created`, `data.object`,
  `data.previous_attributes`) and https://docs.stripe.com/checkout/fulfillment (`checkout.session.completed` with
  `payment_status` paid, or unpaid until `checkout.session.async_payment_succeeded`/`_failed`).

Sessions: one line item built with `price_data` (currency lower-case, `unit_amount` in the smallest unit, the
description as product name), `mode=payment`, `client_reference_id` our reference, `metadata[caseId]`, and the same
reference and case in `payment_intent_data[metadata]` so charge and refund events carry them too. `success_url` is
the request's callback URL, else the configured return URL. `expires_at` is clamped into Stripe's window, measured
from the injected clock with a minute's margin; without one Stripe's default (24 hours) applies.

Webhooks: `checkout.session.completed` is "paid" when its `payment_status` is paid (else "other"),
`checkout.session.async_payment_succeeded` "paid", `checkout.session.async_payment_failed` "failed",
`checkout.session.expired` "expired", `charge.refunded` "refunded" with the amount this event refunded
(`amount_refunded` less the previous value), anything else "other". `provider_payment_id` is the PaymentIntent id.

Errors: 409, 429 and 5xx raise PaymentUnavailable; 401 and 403 PaymentUnavailable `stripe:auth`; other 4xx
PaymentRejected with code `stripe:<error.code or error.type>`; network errors PaymentUnavailable `stripe:network`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import httpx

from adapters.payments import from_minor_units, lower_headers, post_for_object, to_minor_units, unix_time
from adapters.webhooks.stripe_signature import DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER, verify_stripe
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
from domain.shared.clock import Clock

__all__ = ["MAX_EXPIRY", "MIN_EXPIRY", "PROVIDER", "StripePaymentGateway", "StripeWebhooks", "stripe_error"]

PROVIDER = "stripe"
MIN_EXPIRY = timedelta(minutes=30)
MAX_EXPIRY = timedelta(hours=24)
_MARGIN = timedelta(minutes=1)
_SESSION_KINDS: dict[str, PaymentEventKind] = {
    "checkout.session.async_payment_succeeded": "paid", "checkout.session.async_payment_failed": "failed",
    "checkout.session.expired": "expired",
}


def stripe_error(response: httpx.Response) -> PaymentRejected | PaymentUnavailable:
    """Map an error answer to PaymentRejected or PaymentUnavailable (see the module doc)."""
    status = response.status_code
    try:
        error = response.json().get("error")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        error = None
    details = error if isinstance(error, dict) else {}
    code = str(details.get("code") or details.get("type") or f"http_{status}")
    param = f" (param {details['param']})" if details.get("param") else ""
    text = f"Stripe HTTP {status} {code}: {details.get('message') or response.text[:200]}{param}"
    if status in (401, 403):
        return PaymentUnavailable(text, code="stripe:auth")
    if status in (409, 429) or status >= 500:
        return PaymentUnavailable(text, code=f"stripe:{code}")
    return PaymentRejected(text, code=f"stripe:{code}")


class StripePaymentGateway:
    def __init__(self, client: httpx.AsyncClient, *, secret_key: str, return_url: str, clock: Clock,
                 base_url: str = "https://api.stripe.com", api_version: str | None = None) -> None:
        """Wrap an open `httpx.AsyncClient`; `return_url` is the success URL when a request names none."""
        if not secret_key:
            raise ValueError("a Stripe secret key is required")
        self._client = client
        self._headers = {"Authorization": f"Bearer {secret_key}"}
        if api_version:
            self._headers["Stripe-Version"] = api_version
        self._return_url = return_url
        self._clock = clock
        self._base_url = base_url.rstrip("/")

    def session_form(self, request: PaymentLinkRequest) -> dict[str, str]:
        """The form fields of the Checkout Session request for `request`."""
        if not request.description:
            raise PaymentRejected("Stripe needs a description for the line item's name", code="invalid_description")
        form = {
            "mode": "payment",
            "line_items[0][quantity]": "1",
            "line_items[0][price_data][currency]": request.currency.lower(),
            "line_items[0][price_data][unit_amount]": str(to_minor_units(request.amount, request.currency)),
            "line_items[0][price_data][product_data][name]": request.description,
            "client_reference_id": request.reference,
            "success_url": request.callback_url or self._return_url,
            "payment_intent_data[description]": request.description,
            "payment_intent_data[metadata][reference]": request.reference,
        }
        if request.case_id is not None:
            form["metadata[caseId]"] = form["payment_intent_data[metadata][caseId]"] = str(request.case_id)
        if request.customer_email:
            form["customer_email"] = request.customer_email
        if request.expire_at is not None:
            now = self._clock.now()
            expire_at = min(max(request.expire_at, now + MIN_EXPIRY + _MARGIN), now + MAX_EXPIRY - _MARGIN)
            form["expires_at"] = str(int(expire_at.timestamp()))
        return form

    async def _post(self, path: str, form: dict[str, str], idempotency_key: str | None = None) -> dict[str, Any]:
        headers = {**self._headers, **({"Idempotency-Key": idempotency_key} if idempotency_key else {})}
        return await post_for_object(self._client, f"{self._base_url}{path}", provider=PROVIDER,
                                     error=stripe_error, data=form, headers=headers)

    async def create_link(self, request: PaymentLinkRequest) -> PaymentLink:
        """Create a Checkout Session; raises PaymentRejected or PaymentUnavailable."""
        answer = await self._post("/v1/checkout/sessions", self.session_form(request))
        if not answer.get("url"):
            raise PaymentUnavailable("Stripe answered without a url", code="stripe:bad_response")
        return PaymentLink(provider=PROVIDER, provider_link_id=str(answer["id"]), url=str(answer["url"]),
                           status=str(answer.get("status") or "open"))

    async def refund(self, provider_payment_id: str, amount: Decimal, *, currency: str,
                     idempotency_key: str | None = None) -> str:
        """Refund `amount` of a PaymentIntent (`pi_...`) or charge (`ch_...`); returns the `re_...` id."""
        if not provider_payment_id:
            raise PaymentRejected("a Stripe PaymentIntent or charge id is required", code="invalid_payment_id")
        target = "charge" if provider_payment_id.startswith("ch_") else "payment_intent"
        form = {target: provider_payment_id, "amount": str(to_minor_units(amount, currency))}
        answer = await self._post("/v1/refunds", form, idempotency_key)
        if answer.get("status") in ("failed", "canceled"):
            raise PaymentRejected(f"Stripe refund {answer['id']} {answer['status']}: {answer.get('failure_reason')}",
                                  code=f"stripe:refund_{answer['status']}")
        return str(answer["id"])


class _Facts(NamedTuple):
    kind: PaymentEventKind
    reference: str | None = None
    provider_payment_id: str | None = None
    amount: Any = None  # the provider's integer amount
    method: str | None = None
    provider_link_id: str | None = None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _metadata(subject: dict[str, Any]) -> dict[str, Any]:
    metadata = subject.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _session_facts(event_type: str, session: dict[str, Any]) -> _Facts:
    if event_type == "checkout.session.completed":
        kind: PaymentEventKind = "paid" if session.get("payment_status") == "paid" else "other"
    else:
        kind = _SESSION_KINDS.get(event_type, "other")
    methods = session.get("payment_method_types")
    return _Facts(
        kind=kind,
        reference=_text(session.get("client_reference_id") or _metadata(session).get("reference")),
        provider_payment_id=_text(session.get("payment_intent")),
        amount=session.get("amount_total"),
        method=_text(methods[0]) if isinstance(methods, list) and len(methods) == 1 else None,
        provider_link_id=_text(session.get("id")),
    )


def _refund_facts(charge: dict[str, Any], previous: dict[str, Any]) -> _Facts:
    refunded, before = charge.get("amount_refunded"), previous.get("amount_refunded", 0)
    details = charge.get("payment_method_details")
    return _Facts(
        kind="refunded",
        reference=_text(_metadata(charge).get("reference")),
        provider_payment_id=_text(charge.get("payment_intent") or charge.get("id")),
        amount=refunded - before if isinstance(refunded, int) and isinstance(before, int) else refunded,
        method=_text(details.get("type")) if isinstance(details, dict) else None,
    )


class StripeWebhooks:
    def __init__(self, signing_secret: str, *, tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS) -> None:
        """Check deliveries with the endpoint's signing secret (`whsec_...`)."""
        if not signing_secret:
            raise ValueError("a Stripe webhook signing secret is required")
        self._secret = signing_secret
        self._tolerance = tolerance_seconds

    def parse(self, headers: Mapping[str, str], raw_body: bytes, now: datetime) -> list[PaymentEvent]:
        """Verify `Stripe-Signature` (and its timestamp against `now`) and read the event."""
        header = lower_headers(headers).get(SIGNATURE_HEADER.lower())
        if not verify_stripe(self._secret, raw_body, header, now, self._tolerance):
            raise InvalidSignature("Stripe webhook signature does not match or is outside the tolerance")
        try:
            event = json.loads(raw_body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MalformedWebhook("Stripe webhook body is not JSON") from exc
        data = event.get("data") if isinstance(event, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("object"), dict) or not event.get("id"):
            raise MalformedWebhook("Stripe webhook has no id or data.object")
        event_type, subject = str(event.get("type") or ""), data["object"]
        if event_type.startswith("checkout.session."):
            facts = _session_facts(event_type, subject)
        elif event_type == "charge.refunded":
            previous = data.get("previous_attributes")
            facts = _refund_facts(subject, previous if isinstance(previous, dict) else {})
        else:
            facts = _Facts(kind="other")
        currency = subject.get("currency") if facts.amount is not None else None
        return [PaymentEvent(
            provider=PROVIDER,
            event_id=str(event["id"]),
            kind=facts.kind,
            type=event_type,
            reference=facts.reference,
            provider_payment_id=facts.provider_payment_id,
            amount=from_minor_units(facts.amount, currency) if isinstance(currency, str) else None,
            currency=currency.upper() if isinstance(currency, str) else None,
            method=facts.method,
            at=unix_time(event.get("created"), now),
            raw=event,
            provider_link_id=facts.provider_link_id,
        )]
