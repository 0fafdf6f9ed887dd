"""Ports the policies use cases need beyond the domain repositories."""

from __future__ import annotations

from datetime import date
from typing import Protocol

import msgspec

from application.policies.desk_ports import CaseEvents
from application.policies.views import CaseView, CustomerView, PolicyView
from application.ports.uow import UnitOfWork
from application.shared.pagination import Page, PageRequest
from application.shared.visibility import Visibility
from domain.policies.ports import (
    CustomerRepository,
    NumberSequence,
    PolicyRepository,
    PolicyTermRepository,
    RenewalCaseRepository,
)

__all__ = ["CaseFilters", "CustomerFilters", "PoliciesReadModel", "PoliciesUnitOfWork", "PolicyFilters"]


class PoliciesUnitOfWork(UnitOfWork, Protocol):
    customers: CustomerRepository
    policies: PolicyRepository
    cases: RenewalCaseRepository
    sequences: NumberSequence
    terms: PolicyTermRepository
    case_events: CaseEvents


class CustomerFilters(msgspec.Struct, frozen=True, kw_only=True):
    kyc_status: tuple[str, ...] = ()
    q: str | None = None


class PolicyFilters(msgspec.Struct, frozen=True, kw_only=True):
    status: tuple[str, ...] = ()
    policy_type: tuple[str, ...] = ()
    branch_id: tuple[int, ...] = ()
    customer_id: tuple[int, ...] = ()
    renewal_from: date | None = None
    renewal_to: date | None = None
    q: str | None = None


class CaseFilters(msgspec.Struct, frozen=True, kw_only=True):
    status: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    assigned_to: tuple[int, ...] = ()
    batch_id: tuple[int, ...] = ()
    renewal_from: date | None = None
    renewal_to: date | None = None
    q: str | None = None


class PoliciesReadModel(Protocol):
    """Column-level queries for lists and details; no aggregates are loaded.

    Case queries take the caller's visibility and apply it in the query itself: a case outside it is not
    found and not counted in totals.
    """

    async def list_customers(self, filters: CustomerFilters, page: PageRequest) -> Page[CustomerView]: ...
    async def get_customer(self, customer_id: int) -> CustomerView | None: ...
    async def list_policies(self, filters: PolicyFilters, page: PageRequest) -> Page[PolicyView]: ...
    async def get_policy(self, policy_id: int) -> PolicyView | None: ...
    async def list_cases(self, filters: CaseFilters, page: PageRequest,
                         visibility: Visibility) -> Page[CaseView]: ...
    async def get_case(self, case_id: int, visibility: Visibility) -> CaseView | None: ...
