"""Response bodies of the policies endpoints (lists carry the plural resource name)."""

from __future__ import annotations

import msgspec

from application.policies.views import CaseView, CustomerView, PolicyView
from entrypoints.http.envelope import Pagination

__all__ = ["CaseList", "CustomerList", "PolicyList", "PolicyTypeList"]


class CustomerList(msgspec.Struct, rename="camel"):
    customers: list[CustomerView]
    pagination: Pagination


class PolicyList(msgspec.Struct, rename="camel"):
    policies: list[PolicyView]
    pagination: Pagination


class CaseList(msgspec.Struct, rename="camel"):
    cases: list[CaseView]
    pagination: Pagination


class PolicyTypeList(msgspec.Struct, rename="camel"):
    policy_types: list[str]
