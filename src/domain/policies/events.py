"""Events of the policies context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from domain.shared.events import DomainEvent

__all__ = ["CustomerRegistered", "CustomerUpdated", "PolicyIssued", "PolicyUpdated", "RenewalCaseOpened"]


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
