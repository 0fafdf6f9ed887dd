"""Events of the policies context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from domain.shared.events import DomainEvent

__all__ = ["CaseAssigned", "CaseLapsed", "CaseStatusChanged", "CustomerRegistered", "CustomerUpdated", "PolicyIssued",
           "PolicyRenewed", "PolicyUpdated", "RenewalCaseClosed", "RenewalCaseOpened"]


@dataclass(frozen=True, slots=True)
class CustomerRegistered(DomainEvent):
    name: ClassVar[str] = "policies.customer_registered"
    entity_type: ClassVar[str] = "customer"
    entity_key: ClassVar[str] = "customer_id"
    customer_id: int
    customer_code: str


@dataclass(frozen=True, slots=True)
class CustomerUpdated(DomainEvent):
    name: ClassVar[str] = "policies.customer_updated"
    entity_type: ClassVar[str] = "customer"
    entity_key: ClassVar[str] = "customer_id"
    customer_id: int
    fields: list[str]


@dataclass(frozen=True, slots=True)
class PolicyIssued(DomainEvent):
    name: ClassVar[str] = "policies.policy_issued"
    entity_type: ClassVar[str] = "policy"
    entity_key: ClassVar[str] = "policy_id"
    policy_id: int
    policy_number: str
    renewal_date: date


@dataclass(frozen=True, slots=True)
class PolicyUpdated(DomainEvent):
    name: ClassVar[str] = "policies.policy_updated"
    entity_type: ClassVar[str] = "policy"
    entity_key: ClassVar[str] = "policy_id"
    policy_id: int
    fields: list[str]
    renewal_date: date


@dataclass(frozen=True, slots=True)
class RenewalCaseOpened(DomainEvent):
    name: ClassVar[str] = "policies.renewal_case_opened"
    entity_type: ClassVar[str] = "renewal_case"
    entity_key: ClassVar[str] = "case_id"
    case_id: int
    policy_id: int
    case_number: str


@dataclass(frozen=True, slots=True)
class CaseStatusChanged(DomainEvent):
    """A case moved between statuses (by a person, a payment or the lapse job)."""

    name: ClassVar[str] = "policies.case_status_changed"
    entity_type: ClassVar[str] = "renewal_case"
    entity_key: ClassVar[str] = "case_id"
    case_id: int
    policy_id: int
    previous: str
    status: str
    actor_id: int | None
    reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class RenewalCaseClosed(DomainEvent):
    """A case became renewed, lapsed, lost or cancelled: reminders for it stop (reminders subscribe by name)."""

    name: ClassVar[str] = "policies.case_closed"
    entity_type: ClassVar[str] = "renewal_case"
    entity_key: ClassVar[str] = "case_id"
    case_id: int
    policy_id: int
    status: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CaseAssigned(DomainEvent):
    """A case got an owner (by hand, in bulk or round-robin); the assignee is told over the WebSocket."""

    name: ClassVar[str] = "policies.case_assigned"
    entity_type: ClassVar[str] = "renewal_case"
    entity_key: ClassVar[str] = "case_id"
    case_id: int
    assignee_id: int
    previous_assignee_id: int | None
    actor_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class PolicyRenewed(DomainEvent):
    """A paid renewal moved the policy to its next term (the previous one is in `policy_terms`)."""

    name: ClassVar[str] = "policies.policy_renewed"
    entity_type: ClassVar[str] = "policy"
    entity_key: ClassVar[str] = "policy_id"
    policy_id: int
    case_id: int
    payment_id: int | None
    previous_end_date: date
    new_start_date: date
    new_end_date: date
    at: datetime


@dataclass(frozen=True, slots=True)
class CaseLapsed(DomainEvent):
    """The grace period passed unpaid: the case and the policy lapsed; the owner (if any) is notified."""

    name: ClassVar[str] = "policies.case_lapsed"
    entity_type: ClassVar[str] = "renewal_case"
    entity_key: ClassVar[str] = "case_id"
    case_id: int
    policy_id: int
    owner_id: int | None
    at: datetime
