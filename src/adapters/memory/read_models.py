"""The in-memory twin of the policies read model: same filters, sorting, search and totals."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from adapters.memory.store import MemoryStore
from application.policies.ports import CaseFilters, CustomerFilters, PolicyFilters
from application.policies.views import CaseView, CustomerView, PolicyView
from application.shared.pagination import Page, PageRequest
from application.shared.visibility import Visibility
from domain.policies.model import (
    CASE_STATUS_RANK,
    POLICY_STATUS_RANK,
    PRIORITY_RANK,
    CasePriority,
    CaseStatus,
    Customer,
    Policy,
    PolicyStatus,
    RenewalCase,
)
from domain.shared.ids import BatchId, BranchId, CaseId, CustomerId, PolicyId, UserId

__all__ = ["InMemoryPoliciesReadModel"]

V = TypeVar("V")
_TOKEN = re.compile(r"[0-9A-Za-z\u00c0-\uffff]+")


def search_words(*texts: str) -> set[str]:
    words: set[str] = set()
    for text in texts:
        words.update(t.lower() for t in _TOKEN.findall(text))
    return words


def text_matches(q: str, words: set[str]) -> bool:
    tokens = [t.lower() for t in _TOKEN.findall(q)][:8]
    return all(any(w.startswith(t) for w in words) for t in tokens)


def case_visible(k: RenewalCase, p: Policy, visibility: Visibility) -> bool:
    """As the SQL scope: own is assigned or escalated to the user; branch adds the cases of the branch's policies."""
    if visibility.reach == "all":
        return True
    if visibility.user_id is not None and visibility.user_id in (k.assigned_to, k.escalated_to):
        return True
    return visibility.reach == "branch" and visibility.branch_id is not None and p.branch_id == visibility.branch_id


def _sort_key(value: Any) -> tuple[bool, Any]:
    return (value is None, value)


def _paginate(items: list[V], page: PageRequest, keys: dict[str, Callable[[V], Any]],
              ident: Callable[[V], int]) -> Page[V]:
    ordered = sorted(items, key=ident, reverse=bool(page.sort and page.sort[-1].descending))
    for key in reversed(page.sort):
        getter = keys[key.field]
        ordered.sort(key=lambda v: _sort_key(getter(v)), reverse=key.descending)
    chunk = ordered[page.offset:page.offset + page.limit]
    return Page(items=chunk, page=page.page, limit=page.limit, total=len(ordered))


class InMemoryPoliciesReadModel:
    def __init__(self, store: MemoryStore, *, currency: str) -> None:
        self._store = store
        self._currency = currency

    def _customer(self, c: Customer) -> CustomerView:
        assert c.id is not None and c.created_at is not None and c.updated_at is not None
        return CustomerView(
            id=CustomerId(c.id), customer_code=c.customer_code, first_name=c.first_name, last_name=c.last_name,
            full_name=f"{c.first_name} {c.last_name}", email=c.email, phone=c.phone,
            date_of_birth=c.date_of_birth, address=c.address, kyc_status=str(c.kyc_status),
            communication_preferences=c.communication_preferences, created_at=c.created_at,
            updated_at=c.updated_at)

    def _policy(self, p: Policy) -> PolicyView:
        assert p.id is not None and p.created_at is not None and p.updated_at is not None
        c = self._store.tables.customers[p.customer_id]
        return PolicyView(
            id=PolicyId(p.id), policy_number=p.policy_number, customer_id=CustomerId(p.customer_id),
            customer_name=f"{c.first_name} {c.last_name}", policy_type=p.policy_type,
            premium_amount=p.premium_amount, currency=self._currency, sum_assured=p.sum_assured,
            start_date=p.start_date, end_date=p.end_date, renewal_date=p.renewal_date,
            grace_period_days=p.grace_period_days, status=str(p.status),
            agent_id=UserId(p.agent_id) if p.agent_id else None,
            branch_id=BranchId(p.branch_id) if p.branch_id else None, created_at=p.created_at,
            updated_at=p.updated_at)

    def _case(self, k: RenewalCase) -> CaseView:
        assert k.id is not None and k.created_at is not None and k.updated_at is not None
        p = self._store.tables.policies[k.policy_id]
        c = self._store.tables.customers[p.customer_id]
        return CaseView(
            id=CaseId(k.id), case_number=k.case_number, policy_id=PolicyId(k.policy_id),
            policy_number=p.policy_number, customer_id=CustomerId(p.customer_id),
            customer_name=f"{c.first_name} {c.last_name}", status=str(k.status), priority=str(k.priority),
            assigned_to=UserId(k.assigned_to) if k.assigned_to else None,
            batch_id=BatchId(k.batch_id) if k.batch_id else None, renewal_date=p.renewal_date,
            term_end_date=k.term_end_date, renewal_amount=k.renewal_amount, currency=self._currency,
            payment_status=str(k.payment_status), payment_method=k.payment_method, payment_date=k.payment_date,
            communication_attempts=k.communication_attempts, last_contact_date=k.last_contact_date,
            notes=k.notes, escalated_to=UserId(k.escalated_to) if k.escalated_to else None,
            escalation_reason=k.escalation_reason, escalated_at=k.escalated_at, created_at=k.created_at,
            updated_at=k.updated_at, assigned_at=k.assigned_at, first_contact_date=k.first_contact_date,
            closed_at=k.closed_at, flags=[dict(flag) for flag in k.flags])

    async def list_customers(self, filters: CustomerFilters, page: PageRequest) -> Page[CustomerView]:
        rows: Iterable[Customer] = self._store.tables.customers.values()
        if filters.kyc_status:
            rows = [c for c in rows if c.kyc_status in filters.kyc_status]
        if filters.q:
            q = filters.q
            rows = [c for c in rows if text_matches(q, search_words(c.first_name, c.last_name, c.customer_code))]
        return _paginate([self._customer(c) for c in rows], page, {
            "createdAt": lambda v: v.created_at, "lastName": lambda v: v.last_name,
            "firstName": lambda v: v.first_name, "customerCode": lambda v: v.customer_code}, lambda v: v.id)

    async def get_customer(self, customer_id: int) -> CustomerView | None:
        c = self._store.tables.customers.get(customer_id)
        return self._customer(c) if c else None

    def _policy_matches(self, p: Policy, q: str) -> bool:
        c = self._store.tables.customers[p.customer_id]
        return text_matches(q, search_words(p.policy_number)) or text_matches(
            q, search_words(c.first_name, c.last_name, c.customer_code))

    async def list_policies(self, filters: PolicyFilters, page: PageRequest) -> Page[PolicyView]:
        f = filters
        rows = [p for p in self._store.tables.policies.values()
                if (not f.status or p.status in f.status)
                and (not f.policy_type or p.policy_type in f.policy_type)
                and (not f.branch_id or p.branch_id in f.branch_id)
                and (not f.customer_id or p.customer_id in f.customer_id)
                and (f.renewal_from is None or p.renewal_date >= f.renewal_from)
                and (f.renewal_to is None or p.renewal_date <= f.renewal_to)
                and (not f.q or self._policy_matches(p, f.q))]
        return _paginate([self._policy(p) for p in rows], page, {
            "renewalDate": lambda v: v.renewal_date, "endDate": lambda v: v.end_date,
            "startDate": lambda v: v.start_date, "premiumAmount": lambda v: v.premium_amount,
            "policyNumber": lambda v: v.policy_number, "createdAt": lambda v: v.created_at,
            "status": lambda v: POLICY_STATUS_RANK[PolicyStatus(v.status)]}, lambda v: v.id)

    async def get_policy(self, policy_id: int) -> PolicyView | None:
        p = self._store.tables.policies.get(policy_id)
        return self._policy(p) if p else None

    async def list_cases(self, filters: CaseFilters, page: PageRequest,
                         visibility: Visibility) -> Page[CaseView]:
        f = filters
        policies = self._store.tables.policies

        def keep(k: RenewalCase) -> bool:
            p = policies[k.policy_id]
            return (case_visible(k, p, visibility)
                    and (not f.status or k.status in f.status) and (not f.priority or k.priority in f.priority)
                    and (not f.assigned_to or k.assigned_to in f.assigned_to)
                    and (not f.batch_id or k.batch_id in f.batch_id)
                    and (f.renewal_from is None or p.renewal_date >= f.renewal_from)
                    and (f.renewal_to is None or p.renewal_date <= f.renewal_to)
                    and (not f.q or self._policy_matches(p, f.q)
                         or k.case_number.startswith(f.q.strip().upper())))
        rows = [k for k in self._store.tables.cases.values() if keep(k)]
        return _paginate([self._case(k) for k in rows], page, {
            "createdAt": lambda v: v.created_at, "renewalDate": lambda v: v.renewal_date,
            "renewalAmount": lambda v: v.renewal_amount, "priority": lambda v: PRIORITY_RANK[CasePriority(v.priority)],
            "status": lambda v: CASE_STATUS_RANK[CaseStatus(v.status)], "caseNumber": lambda v: v.case_number},
            lambda v: v.id)

    async def get_case(self, case_id: int, visibility: Visibility) -> CaseView | None:
        k = self._store.tables.cases.get(case_id)
        if k is None or not case_visible(k, self._store.tables.policies[k.policy_id], visibility):
            return None
        return self._case(k)
