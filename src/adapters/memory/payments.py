"""In-memory payments: a gateway that keeps what it was asked and fails when told, and a webhook parser for tests.

The webhook format is the port's own: the body is a JSON-encoded PaymentEvent (provider "memory"), signed with
`X-Memory-Signature`, the hex HMAC-SHA256 of the body with the secret; `signed(event)` builds such a delivery.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from adapters.payments import lower_headers, to_minor_units
from application.ports.payments import (
    InvalidSignature,
    MalformedWebhook,
    PaymentEvent,
    PaymentLink,
    PaymentLinkRequest,
    PaymentRejected,
    PaymentUnavailable,
)

__all__ = ["PROVIDER", "SIGNATURE_HEADER", "InMemoryPaymentGateway", "InMemoryPaymentWebhooks", "MemoryRefund"]

PROVIDER = "memory"
SIGNATURE_HEADER = "X-Memory-Signature"


class MemoryRefund(msgspec.Struct, frozen=True, kw_only=True):
    refund_id: str
    provider_payment_id: str
    amount: Decimal
    currency: str
    idempotency_key: str | None


class InMemoryPaymentGateway:
    """Checks amounts like a provider, then keeps `links` as (link, request) pairs and `refunds` in order.

    Ids are `mem-plink-<n>` and `mem-refund-<n>`; links point at `https://pay.example.invalid/<link id>`. A refund
    repeated with the same idempotency key answers the first refund's id.
    """

    def __init__(self) -> None:
        self.links: list[tuple[PaymentLink, PaymentLinkRequest]] = []
        self.refunds: list[MemoryRefund] = []
        self._failures: list[Exception] = []
        self._refused_references: dict[str, str] = {}

    def fail_next(self, times: int = 1, *, code: str = "unavailable") -> None:
        """Make the next `times` calls raise PaymentUnavailable (the provider is down or throttling)."""
        self._failures.extend(PaymentUnavailable("the in-memory gateway was told to fail", code=code)
                              for _ in range(times))

    def refuse(self, reference: str, code: str = "rejected") -> None:
        """Make every link for `reference` raise PaymentRejected with `code`."""
        self._refused_references[reference] = code

    async def create_link(self, request: PaymentLinkRequest) -> PaymentLink:
        if self._failures:
            raise self._failures.pop(0)
        to_minor_units(request.amount, request.currency)
        if request.reference in self._refused_references:
            raise PaymentRejected(f"{request.reference} is refused", code=self._refused_references[request.reference])
        link_id = f"mem-plink-{len(self.links) + 1}"
        link = PaymentLink(provider=PROVIDER, provider_link_id=link_id, url=f"https://pay.example.invalid/{link_id}",
                           status="created")
        self.links.append((link, request))
        return link

    async def refund(self, provider_payment_id: str, amount: Decimal, *, currency: str,
                     idempotency_key: str | None = None) -> str:
        if self._failures:
            raise self._failures.pop(0)
        to_minor_units(amount, currency)
        if not provider_payment_id:
            raise PaymentRejected("a payment id is required", code="invalid_payment_id")
        if idempotency_key is not None:
            for earlier in self.refunds:
                if earlier.idempotency_key == idempotency_key:
                    return earlier.refund_id
        refund = MemoryRefund(refund_id=f"mem-refund-{len(self.refunds) + 1}", provider_payment_id=provider_payment_id,
                              amount=amount, currency=currency.upper(), idempotency_key=idempotency_key)
        self.refunds.append(refund)
        return refund.refund_id


class InMemoryPaymentWebhooks:
    def __init__(self, secret: str = "memory-webhook-secret") -> None:
        self._secret = secret

    def _signature(self, raw_body: bytes) -> str:
        return hmac.new(self._secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()

    def signed(self, event: PaymentEvent) -> tuple[dict[str, str], bytes]:
        """The headers and body of a delivery of `event`."""
        body = msgspec.json.encode(event)
        return {SIGNATURE_HEADER: self._signature(body)}, body

    def parse(self, headers: Mapping[str, str], raw_body: bytes, now: datetime) -> list[PaymentEvent]:
        signature = lower_headers(headers).get(SIGNATURE_HEADER.lower(), "")
        if not hmac.compare_digest(self._signature(raw_body).encode("ascii"), signature.encode("utf-8")):
            raise InvalidSignature("in-memory webhook signature does not match")
        try:
            event = msgspec.json.decode(raw_body, type=PaymentEvent)
        except msgspec.DecodeError as exc:
            raise MalformedWebhook(f"in-memory webhook body cannot be read: {exc}") from exc
        raw: dict[str, Any] = msgspec.json.decode(raw_body)
        return [msgspec.structs.replace(event, raw=raw)]
