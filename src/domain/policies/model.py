"""Customers, policies and renewal cases: the first aggregates of the renewal desk."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from domain.policies.events import (
    CustomerRegistered,
    CustomerUpdated,
    PolicyIssued,
    PolicyUpdated,
    RenewalCaseOpened,
)
from domain.shared.events import EventRecorder

__all__ = [
    "CASE_STATUS_RANK",
    "CLOSED_CASE_STATUSES",
    "POLICY_STATUS_RANK",
    "PRIORITY_RANK",
    "CasePriority",
    "CaseStatus",
    "Customer",
    "KycStatus",
    "PaymentStatus",
    "Policy",
    "PolicyStatus",
    "RenewalCase",
]


class PolicyStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"
    EXPIRED = "expired"
    LAPSED = "lapsed"
    CANCELLED = "cancelled"


class KycStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class CaseStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    IN_PROGRESS = "in_progress"
    PAYMENT_PENDING = "payment_pending"
    RENEWED = "renewed"
    LAPSED = "lapsed"
    LOST = "lost"
    CANCELLED = "cancelled"


class CasePriority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


# a closed case takes no more reminders, links or assignments (see domain.policies.case_workflow for the moves)
CLOSED_CASE_STATUSES = frozenset({CaseStatus.RENEWED, CaseStatus.LAPSED, CaseStatus.LOST, CaseStatus.CANCELLED})

PRIORITY_RANK = {CasePriority.LOW: 1, CasePriority.MEDIUM: 2, CasePriority.HIGH: 3, CasePriority.URGENT: 4}
# statuses sort in the order a case (or a policy) moves through them, not alphabetically
CASE_STATUS_RANK = {status: rank for rank, status in enumerate(CaseStatus, start=1)}
POLICY_STATUS_RANK = {status: rank for rank, status in enumerate(PolicyStatus, start=1)}


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PARTIAL = "partial"
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"


@dataclass(eq=False)
class Customer(EventRecorder):
    customer_code: str
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    date_of_birth: date | None = None
    address: dict[str, Any] | None = None
    kyc_status: KycStatus = KycStatus.PENDING
    communication_preferences: dict[str, Any] | None = None
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        EventRecorder.__init__(self)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def registered(self) -> None:
        """Record that this new customer was registered (call once its id is known)."""
        self.record(CustomerRegistered(customer_id=self._id(), customer_code=self.customer_code))

    def apply(self, changes: dict[str, Any]) -> None:
        """Apply already-validated field changes and record what changed."""
        changed = {k: v for k, v in changes.items() if getattr(self, k) != v}
        for key, value in changed.items():
            setattr(self, key, value)
        if changed:
            self.record(CustomerUpdated(customer_id=self._id(), fields=sorted(changed)))

    def _id(self) -> int:
        assert self.id is not None, "customer has no id yet"
        return self.id


@dataclass(eq=False)
class Policy(EventRecorder):
    policy_number: str
    customer_id: int
    policy_type: str
    premium_amount: Decimal
    start_date: date
    end_date: date
    renewal_date: date
    status: PolicyStatus = PolicyStatus.ACTIVE
    grace_period_days: int = 30
    sum_assured: Decimal | None = None
    agent_id: int | None = None
    branch_id: int | None = None
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        EventRecorder.__init__(self)

    def issued(self) -> None:
        """Record that this policy entered the book (call once its id is known)."""
        self.record(PolicyIssued(policy_id=self._id(), policy_number=self.policy_number,
                                 renewal_date=self.renewal_date))

    def apply(self, changes: dict[str, Any]) -> None:
        """Apply already-validated field changes and record what changed."""
        changed = {k: v for k, v in changes.items() if getattr(self, k) != v}
        for key, value in changed.items():
            setattr(self, key, value)
        if changed:
            self.record(PolicyUpdated(policy_id=self._id(), fields=sorted(changed),
                                      renewal_date=self.renewal_date))

    def _id(self) -> int:
        assert self.id is not None, "policy has no id yet"
        return self.id


@dataclass(eq=False)
class RenewalCase(EventRecorder):
    """One renewal of one policy term; opened once per (policy, term end date)."""

    case_number: str
    policy_id: int
    term_end_date: date
    renewal_amount: Decimal
    status: CaseStatus = CaseStatus.NEW
    priority: CasePriority = CasePriority.MEDIUM
    assigned_to: int | None = None
    batch_id: int | None = None
    payment_status: PaymentStatus = PaymentStatus.PENDING
    payment_method: str | None = None
    payment_date: datetime | None = None
    communication_attempts: int = 0
    last_contact_date: datetime | None = None
    notes: str | None = None
    escalated_to: int | None = None
    escalation_reason: str | None = None
    escalated_at: datetime | None = None
    assigned_at: datetime | None = None
    first_contact_date: datetime | None = None
    closed_at: datetime | None = None
    # what needs a person's eye, e.g. {"code": "amount_mismatch", "message": ..., "at": ISO time, "paymentId": 4}
    flags: list[dict[str, Any]] = field(default_factory=list)
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        EventRecorder.__init__(self)

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_CASE_STATUSES

    def opened(self) -> None:
        """Record that this case was opened (call once its id is known)."""
        assert self.id is not None, "case has no id yet"
        self.record(RenewalCaseOpened(case_id=self.id, policy_id=self.policy_id, case_number=self.case_number))
