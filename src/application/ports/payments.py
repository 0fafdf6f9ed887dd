"""The payments ports: a gateway that creates hosted payment links and refunds, and a parser of its signed webhooks.

No card data passes through us: the customer pays on the provider's page, and we learn the outcome from a webhook.
Amounts are exact Decimals in the currency's major unit (rupees, dollars); adapters convert to the provider's
smallest unit and refuse amounts finer than the currency allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

import msgspec

__all__ = [
    "InvalidSignature",
    "MalformedWebhook",
    "PaymentEvent",
    "PaymentEventKind",
    "PaymentGateway",
    "PaymentLink",
    "PaymentLinkRequest",
    "PaymentRejected",
    "PaymentUnavailable",
    "PaymentWebhooks",
]

PaymentEventKind = Literal["paid", "failed", "refunded", "expired", "other"]


class PaymentLinkRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One link to pay `amount` for our payment `reference` (its public id, `pay-N`)."""

    reference: str
    amount: Decimal
    currency: str  # ISO 4217, any case
    description: str
    customer_name: str | None = None
    customer_email: str | None = None
    customer_phone: str | None = None  # E.164
    case_id: int | None = None  # carried in the provider's notes/metadata as `caseId`
    callback_url: str | None = None  # where the customer's browser returns after paying
    expire_at: datetime | None = None  # aware; providers may clamp it to their own limits


class PaymentLink(msgspec.Struct, frozen=True, kw_only=True):
    provider: str  # "razorpay", "stripe", "dev", "memory"
    provider_link_id: str  # plink_..., cs_..., dev-plink-N
    url: str  # the page to send to the customer
    status: str  # the provider's own status word ("created", "open")


class PaymentEvent(msgspec.Struct, frozen=True, kw_only=True):
    """What a verified webhook says happened; `event_id` is the same on every redelivery of one event."""

    provider: str
    event_id: str
    kind: PaymentEventKind
    type: str  # the provider's event type, e.g. "payment_link.paid"
    reference: str | None  # our payment's public id, when the event carries it
    provider_payment_id: str | None  # pay_... / pi_...: what refund() takes
    amount: Decimal | None  # paid, failed or (for "refunded") refunded by this event, in the major unit
    currency: str | None  # upper case
    method: str | None  # card, upi, netbanking...
    at: datetime  # when it happened at the provider (aware, UTC)
    raw: dict[str, Any]  # the decoded payload, for the record
    provider_link_id: str | None = None
    provider_refund_id: str | None = None


class PaymentRejected(Exception):
    """The provider (or our own check) refused the request for good: do not retry it unchanged."""

    def __init__(self, message: str, *, code: str = "rejected") -> None:
        super().__init__(message)
        self.code = code


class PaymentUnavailable(Exception):
    """The provider could not be reached, is failing, is throttling us or refuses our credentials: retry later."""

    def __init__(self, message: str, *, code: str = "unavailable") -> None:
        super().__init__(message)
        self.code = code


class InvalidSignature(Exception):
    """A webhook whose signature (or Stripe timestamp) does not check out: answer 403 and change nothing."""


class MalformedWebhook(Exception):
    """A correctly signed webhook whose body cannot be read."""


class PaymentGateway(Protocol):
    async def create_link(self, request: PaymentLinkRequest) -> PaymentLink:
        """Create a hosted payment link; raises PaymentRejected or PaymentUnavailable."""
        ...

    async def refund(self, provider_payment_id: str, amount: Decimal, *, currency: str,
                     idempotency_key: str | None = None) -> str:
        """Refund `amount` of a captured payment and return the provider's refund id."""
        ...


class PaymentWebhooks(Protocol):
    def parse(self, headers: Mapping[str, str], raw_body: bytes, now: datetime) -> list[PaymentEvent]:
        """Verify and read one webhook delivery; raises InvalidSignature or MalformedWebhook."""
        ...
