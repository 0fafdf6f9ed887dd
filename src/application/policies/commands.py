"""Commands of the policies context; they double as the HTTP request bodies (camelCase)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

__all__ = ["CustomerChanges", "NewCustomer", "NewPolicy", "PolicyChanges"]

Name = msgspec.Meta(min_length=1, max_length=100)
Code = msgspec.Meta(min_length=1, max_length=50)


class NewCustomer(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Register a customer; `customerCode` is generated when absent."""

    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    date_of_birth: date | None = None
    address: dict[str, Any] | None = None
    customer_code: str | None = None
    kyc_status: str = "pending"
    communication_preferences: dict[str, Any] | None = None


class CustomerChanges(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Change some fields of a customer; absent fields stay as they are."""

    first_name: str | UnsetType = UNSET
    last_name: str | UnsetType = UNSET
    email: str | UnsetType | None = UNSET
    phone: str | UnsetType | None = UNSET
    date_of_birth: date | UnsetType | None = UNSET
    address: dict[str, Any] | UnsetType | None = UNSET
    kyc_status: str | UnsetType = UNSET
    communication_preferences: dict[str, Any] | UnsetType | None = UNSET


class NewPolicy(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Issue a policy into the book; `policyNumber` is generated when absent."""

    customer_id: str | int
    policy_type: str
    premium_amount: Decimal
    start_date: date
    end_date: date
    renewal_date: date | None = None
    grace_period_days: int = 30
    status: str = "active"
    sum_assured: Decimal | None = None
    policy_number: str | None = None
    agent_id: str | int | None = None
    branch_id: str | int | None = None


class PolicyChanges(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    policy_type: str | UnsetType = UNSET
    premium_amount: Decimal | UnsetType = UNSET
    start_date: date | UnsetType = UNSET
    end_date: date | UnsetType = UNSET
    renewal_date: date | UnsetType = UNSET
    grace_period_days: int | UnsetType = UNSET
    status: str | UnsetType = UNSET
    sum_assured: Decimal | UnsetType | None = UNSET
    agent_id: str | int | UnsetType | None = UNSET
    branch_id: str | int | UnsetType | None = UNSET
