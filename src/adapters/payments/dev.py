"""The development payment gateway (`make run`): links point at our own dev checkout page; nothing is charged.

A link is `{public_api_url}/dev/pay/{reference}`. Each link is appended to `<directory>/payment_links.jsonl` as
`{"id": "dev-plink-<n>", "at", "reference", "amount", "currency", "description", "customer_name", "customer_email",
"customer_phone", "case_id", "callback_url", "expire_at", "url"}` (amounts as decimal strings), so the web process
serving the checkout page finds links another process created; refunds go to `payment_refunds.jsonl` as
`dev-refund-<n>`. Amounts are checked like a provider would (positive, no finer than the currency).

When the page's "Pay" button is pressed it posts `dev_paid_event(...)` to the dev webhook: a JSON event signed with
`X-Dev-Signature` (hex HMAC-SHA256 of the body with the dev webhook secret). Its event id and payment id derive from
the link id, so pressing twice delivers the same event twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec

from adapters.dev.jsonl_sink import append_numbered
from adapters.payments import lower_headers, to_minor_units
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

__all__ = [
    "LINKS_FILE",
    "PROVIDER",
    "REFUNDS_FILE",
    "SIGNATURE_HEADER",
    "DevPaymentGateway",
    "DevPaymentLink",
    "DevPaymentWebhooks",
    "dev_event",
    "dev_paid_event",
    "dev_signature",
]

PROVIDER = "dev"
LINKS_FILE = "payment_links.jsonl"
REFUNDS_FILE = "payment_refunds.jsonl"
SIGNATURE_HEADER = "X-Dev-Signature"
_KINDS: frozenset[str] = frozenset({"paid", "failed", "refunded", "expired"})


class DevPaymentLink(msgspec.Struct, frozen=True, kw_only=True):
    """A link as the dev checkout page shows it."""

    id: str
    at: datetime
    reference: str
    amount: Decimal
    currency: str
    description: str
    customer_name: str | None
    customer_email: str | None
    customer_phone: str | None
    case_id: int | None
    callback_url: str | None
    expire_at: datetime | None
    url: str


class DevPaymentGateway:
    def __init__(self, directory: Path, *, public_api_url: str, clock: Clock) -> None:
        self._directory = directory
        self._public_api_url = public_api_url.rstrip("/")
        self._clock = clock

    @property
    def links_path(self) -> Path:
        return self._directory / LINKS_FILE

    @property
    def refunds_path(self) -> Path:
        return self._directory / REFUNDS_FILE

    async def create_link(self, request: PaymentLinkRequest) -> PaymentLink:
        """Record the link and return its dev checkout URL; raises PaymentRejected like a provider."""
        to_minor_units(request.amount, request.currency)
        url = f"{self._public_api_url}/dev/pay/{quote(request.reference, safe='')}"
        entry = {
            "at": self._clock.now().isoformat(), "reference": request.reference, "amount": str(request.amount),
            "currency": request.currency.upper(), "description": request.description,
            "customer_name": request.customer_name, "customer_email": request.customer_email,
            "customer_phone": request.customer_phone, "case_id": request.case_id,
            "callback_url": request.callback_url,
            "expire_at": request.expire_at.isoformat() if request.expire_at is not None else None, "url": url,
        }
        link_id = await self._append(self.links_path, "dev-plink-", entry)
        return PaymentLink(provider=PROVIDER, provider_link_id=link_id, url=url, status="created")

    async def refund(self, provider_payment_id: str, amount: Decimal, *, currency: str,
                     idempotency_key: str | None = None) -> str:
        """Record the refund and return `dev-refund-<n>`."""
        if not provider_payment_id.startswith("dev-pay-"):
            raise PaymentRejected(f"{provider_payment_id!r} is not a dev payment", code="invalid_payment_id")
        entry = {"at": self._clock.now().isoformat(), "payment_id": provider_payment_id,
                 "amount_minor": to_minor_units(amount, currency), "amount": str(amount),
                 "currency": currency.upper(), "idempotency_key": idempotency_key}
        return await self._append(self.refunds_path, "dev-refund-", entry)

    async def _append(self, path: Path, prefix: str, entry: dict[str, Any]) -> str:
        try:
            return await asyncio.to_thread(append_numbered, path, prefix, entry)
        except OSError as exc:
            raise PaymentUnavailable(f"cannot write to {path}: {exc}", code="sink_unwritable") from exc

    def links(self) -> list[DevPaymentLink]:
        """Every link recorded in the directory, oldest first (blocking: small file)."""
        if not self.links_path.exists():
            return []
        lines = self.links_path.read_text(encoding="utf-8").splitlines()
        return [msgspec.convert(json.loads(line), DevPaymentLink, strict=False) for line in lines if line]

    async def find_link(self, reference: str) -> DevPaymentLink | None:
        """The latest link made for `reference`, or None."""
        links = await asyncio.to_thread(self.links)
        return next((link for link in reversed(links) if link.reference == reference), None)


def dev_signature(secret: str, raw_body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()


def dev_event(secret: str, link: DevPaymentLink, kind: PaymentEventKind, *, at: datetime,
              method: str = "dev") -> tuple[dict[str, str], bytes]:
    """The headers and body of a signed dev webhook saying `kind` happened to `link`'s payment."""
    number = link.id.removeprefix("dev-plink-")
    body = json.dumps({
        "id": f"dev-evt-{number}-{kind}", "type": kind, "reference": link.reference, "link_id": link.id,
        "payment_id": f"dev-pay-{number}", "amount": str(link.amount), "currency": link.currency,
        "method": method, "created": at.isoformat(),
    }).encode()
    return {SIGNATURE_HEADER: dev_signature(secret, body), "Content-Type": "application/json"}, body


def dev_paid_event(secret: str, link: DevPaymentLink, *, at: datetime) -> tuple[dict[str, str], bytes]:
    """What the dev checkout page posts when its "Pay" button is pressed."""
    return dev_event(secret, link, "paid", at=at)


class DevPaymentWebhooks:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a dev webhook secret is required")
        self._secret = secret

    def parse(self, headers: Mapping[str, str], raw_body: bytes, now: datetime) -> list[PaymentEvent]:
        """Verify `X-Dev-Signature` and read the event; raises InvalidSignature or MalformedWebhook."""
        signature = lower_headers(headers).get(SIGNATURE_HEADER.lower(), "")
        expected = dev_signature(self._secret, raw_body)
        if not hmac.compare_digest(expected.encode("ascii"), signature.strip().lower().encode("utf-8")):
            raise InvalidSignature("dev webhook signature does not match")
        try:
            event = json.loads(raw_body)
            kind: PaymentEventKind = event["type"] if event["type"] in _KINDS else "other"
            return [PaymentEvent(
                provider=PROVIDER, event_id=str(event["id"]), kind=kind, type=str(event["type"]),
                reference=event.get("reference"), provider_payment_id=event.get("payment_id"),
                amount=Decimal(event["amount"]), currency=str(event["currency"]).upper(),
                method=event.get("method"), at=datetime.fromisoformat(event["created"]), raw=event,
                provider_link_id=event.get("link_id"),
            )]
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            raise MalformedWebhook(f"dev webhook body cannot be read: {exc}") from exc
