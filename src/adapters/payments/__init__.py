"""Payment provider adapters (Razorpay, Stripe, dev) and the amount and header helpers they share.

Smallest units follow the providers' currency tables (https://docs.stripe.com/currencies#zero-decimal and
https://razorpay.com/docs/payments/international-payments/#supported-currencies): most currencies have two decimals,
the zero-decimal ones none, and BHD, JOD, KWD, OMR and TND three. An amount finer than its currency allows is
refused rather than rounded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from application.ports.payments import MalformedWebhook, PaymentRejected, PaymentUnavailable

__all__ = [
    "THREE_DECIMAL_CURRENCIES",
    "ZERO_DECIMAL_CURRENCIES",
    "body_digest_event_id",
    "currency_exponent",
    "from_minor_units",
    "lower_headers",
    "post_for_object",
    "to_minor_units",
    "unix_time",
]

ZERO_DECIMAL_CURRENCIES = frozenset({
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
})
THREE_DECIMAL_CURRENCIES = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def currency_exponent(currency: str) -> int:
    """How many decimal places the smallest unit of `currency` has."""
    code = currency.upper()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    return 3 if code in THREE_DECIMAL_CURRENCIES else 2


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Return `amount` in the smallest unit of `currency` (paise for INR), exactly.

    Raises:
        PaymentRejected: `invalid_amount` when the amount is not positive, not finite or finer than the currency.
    """
    if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        raise PaymentRejected(f"{currency!r} is not an ISO 4217 currency code", code="invalid_currency")
    if not amount.is_finite() or amount <= 0:
        raise PaymentRejected(f"the amount must be positive, not {amount}", code="invalid_amount")
    scaled = amount.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise PaymentRejected(f"{amount} {currency.upper()} is finer than the currency's smallest unit",
                              code="invalid_amount")
    return int(scaled)


def from_minor_units(value: Any, currency: str) -> Decimal:
    """Return a provider's integer amount in the major unit of `currency`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedWebhook(f"amount {value!r} is not an integer")
    try:
        return Decimal(value).scaleb(-currency_exponent(currency))
    except InvalidOperation as exc:  # pragma: no cover - integers always convert
        raise MalformedWebhook(f"amount {value!r} is not a number") from exc


def unix_time(value: Any, fallback: datetime) -> datetime:
    """A provider's unix timestamp as an aware UTC datetime, or `fallback` when it is missing."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return fallback


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers with lower-case names (HTTP header names are case-insensitive)."""
    return {name.lower(): value for name, value in headers.items()}


def body_digest_event_id(raw_body: bytes) -> str:
    """An event id derived from the body, for a delivery that names none: redeliveries carry the same bytes."""
    return "sha256:" + hashlib.sha256(raw_body).hexdigest()


async def post_for_object(client: httpx.AsyncClient, url: str, *, provider: str,
                          error: Callable[[httpx.Response], Exception], **request: Any) -> dict[str, Any]:
    """POST to a payment provider and return the JSON object it created (which must carry an `id`).

    Network failures, non-JSON bodies and answers without an id are PaymentUnavailable (`<provider>:network`,
    `<provider>:bad_response`); an HTTP error is whatever `error` makes of the response."""
    name = provider.capitalize()
    try:
        response = await client.post(url, **request)
    except httpx.TransportError as exc:
        raise PaymentUnavailable(f"cannot reach {name}: {type(exc).__name__}: {exc}",
                                 code=f"{provider}:network") from exc
    if response.status_code >= 300:
        raise error(response)
    try:
        answer = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PaymentUnavailable(f"{name} answered with a body that is not JSON",
                                 code=f"{provider}:bad_response") from exc
    if not isinstance(answer, dict) or not answer.get("id"):
        raise PaymentUnavailable(f"{name} answered without an id", code=f"{provider}:bad_response")
    return answer
