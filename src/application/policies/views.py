"""Read models of the policies context, selected column-by-column into msgspec structs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec

from domain.shared.ids import BatchId, BranchId, CaseId, CustomerId, PolicyId, UserId

__all__ = ["CaseView", "CustomerView", "PolicyView"]


class CustomerView(msgspec.Struct, kw_only=True, rename="camel"):
    id: CustomerId
    customer_code: str
    first_name: str
    last_name: str
    full_name: str
    email: str | None
    phone: str | None
    date_of_birth: date | None
    address: dict[str, Any] | None
    kyc_status: str
    communication_preferences: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class PolicyView(msgspec.Struct, kw_only=True, rename="camel"):
    id: PolicyId
    policy_number: str
    customer_id: CustomerId
    customer_name: str
    policy_type: str
    premium_amount: Decimal
    currency: str
    sum_assured: Decimal | None
    start_date: date
    end_date: date
    renewal_date: date
    grace_period_days: int
    status: str
    agent_id: UserId | None
    branch_id: BranchId | None
    created_at: datetime
    updated_at: datetime


class CaseView(msgspec.Struct, kw_only=True, rename="camel"):
    id: CaseId
    case_number: str
    policy_id: PolicyId
    policy_number: str
    customer_id: CustomerId
    customer_name: str
    status: str
    priority: str
    assigned_to: UserId | None
    batch_id: BatchId | None
    renewal_date: date
    term_end_date: date
    renewal_amount: Decimal
    currency: str
    payment_status: str
    payment_method: str | None
    payment_date: datetime | None
    communication_attempts: int
    last_contact_date: datetime | None
    notes: str | None
    escalated_to: UserId | None
    escalation_reason: str | None
    escalated_at: datetime | None
    created_at: datetime
    updated_at: datetime
    assigned_at: datetime | None = None
    first_contact_date: datetime | None = None
    closed_at: datetime | None = None
    flags: list[dict[str, Any]] = []  # what needs a person: amount mismatches, partial payments ({code, message, at})
