"""Events of the payments context: facts other contexts react to (routed to their jobs by name)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from domain.shared.events import DomainEvent

__all__ = ["PaymentFlagged", "PaymentLinkSent", "PaymentRefunded", "RenewalPaid"]


@dataclass(frozen=True, slots=True)
class RenewalPaid(DomainEvent):
    """A verified payment covered the renewal amount: the policies context renews the policy and closes the case,
    campaigns attribute a conversion (`campaigns.record_conversion` reads customer_id, policy_id, paid_at)."""

    name: ClassVar[str] = "payments.renewal_paid"
    entity_type: ClassVar[str] = "payment"
    entity_key: ClassVar[str] = "payment_id"
    payment_id: int
    case_id: int
    policy_id: int
    customer_id: int
    amount: str  # exact decimal as text
    currency: str
    method: str | None
    provider: str
    paid_at: datetime


@dataclass(frozen=True, slots=True)
class PaymentFlagged(DomainEvent):
    """A payment needs a person: amount mismatch, partial payment, paid after the case closed...; flagged on the
    case (code: amount_mismatch | partial_payment | overpaid | currency_mismatch | paid_after_close)."""

    name: ClassVar[str] = "payments.payment_flagged"
    entity_type: ClassVar[str] = "payment"
    entity_key: ClassVar[str] = "payment_id"
    payment_id: int
    case_id: int
    code: str
    message: str
    expected: str | None
    received: str | None
    currency: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class PaymentLinkSent(DomainEvent):
    """A payment link was created and queued to the customer: the case becomes payment_pending."""

    name: ClassVar[str] = "payments.payment_link_sent"
    entity_type: ClassVar[str] = "payment"
    entity_key: ClassVar[str] = "payment_id"
    payment_id: int
    case_id: int
    channel: str
    url: str
    message_id: int | None
    actor_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class PaymentRefunded(DomainEvent):
    """A refund was confirmed by the provider (whole or part)."""

    name: ClassVar[str] = "payments.payment_refunded"
    entity_type: ClassVar[str] = "payment"
    entity_key: ClassVar[str] = "payment_id"
    payment_id: int
    case_id: int | None
    amount: str
    currency: str
    at: datetime
