"""Values of the payments context: statuses, the facts webhooks bring, captures, refunds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "CAPTURED_STATUSES", "PROGRESS", "Capture", "PaymentFact", "PaymentStatus", "Refund", "RefundStatus",
    "classify_capture",
]


class PaymentStatus(StrEnum):
    CREATED = "created"
    LINK_SENT = "link_sent"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class RefundStatus(StrEnum):
    REQUESTED = "requested"  # the provider accepted our request; its webhook confirms it
    PROCESSED = "processed"
    FAILED = "failed"


# the progress a payment makes without a capture, in order: a later one never goes back to an earlier one
PROGRESS = (PaymentStatus.CREATED, PaymentStatus.LINK_SENT, PaymentStatus.FAILED, PaymentStatus.EXPIRED,
             PaymentStatus.CANCELLED)
CAPTURED_STATUSES = frozenset({PaymentStatus.PAID, PaymentStatus.PARTIALLY_PAID, PaymentStatus.PARTIALLY_REFUNDED,
                               PaymentStatus.REFUNDED})


@dataclass(frozen=True, slots=True)
class PaymentFact:
    """What one verified webhook event says happened to a payment (the port's PaymentEvent, in domain terms)."""

    event_id: str
    kind: str  # paid | failed | refunded | expired | other
    at: datetime
    provider_payment_id: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    method: str | None = None
    provider_refund_id: str | None = None


@dataclass(frozen=True, slots=True)
class Capture:
    provider_payment_id: str
    amount: Decimal
    currency: str
    method: str | None
    at: datetime


@dataclass(slots=True)
class Refund:
    amount: Decimal
    status: RefundStatus
    provider_refund_id: str | None
    reason: str | None = None
    created_by: int | None = None
    id: int | None = None
    created_at: datetime | None = None


def classify_capture(expected: Decimal, expected_currency: str, amount: Decimal, currency: str) -> str:
    """exact, partial or mismatch (exact Decimal comparison, currency included)."""
    if currency.upper() != expected_currency.upper():
        return "mismatch"
    if amount == expected:
        return "exact"
    return "partial" if Decimal(0) < amount < expected else "mismatch"
