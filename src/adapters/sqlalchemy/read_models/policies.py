"""Column-level list and detail queries of the policies context, straight into msgspec views.

Statements are built once per filter shape and sort (values travel as bound parameters), so a
request pays neither query construction nor SQLAlchemy's cache-key work. Case queries also carry the
caller's scope (all, own or branch) in their WHERE clause: the scope is part of the shape, the user's and
branch's ids are bound parameters.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, Integer, Select, String, and_, bindparam, case, or_, select

from adapters.asyncpg.read_pool import AsyncpgReadPool
from adapters.sqlalchemy.listing import (
    LIMIT,
    OFFSET,
    CompiledQuery,
    TotalCounter,
    any_of,
    order_by,
    page_params,
    prefix_tsquery,
    tsquery_param,
)
from adapters.sqlalchemy.tables.policies import customers as c
from adapters.sqlalchemy.tables.policies import policies as p
from adapters.sqlalchemy.tables.policies import renewal_cases as rc
from application.policies.ports import CaseFilters, CustomerFilters, PolicyFilters
from application.policies.views import CaseView, CustomerView, PolicyView
from application.shared.pagination import Page, PageRequest, SortKey
from application.shared.visibility import Visibility
from domain.policies.model import CASE_STATUS_RANK, POLICY_STATUS_RANK, PRIORITY_RANK
from domain.shared.ids import BatchId, BranchId, CaseId, CustomerId, PolicyId, UserId

__all__ = ["SqlAlchemyPoliciesReadModel"]

Row = Sequence[Any]
V = TypeVar("V")
Conditions = dict[str, Callable[[], ColumnElement[bool]]]
Scope = Literal["all", "own", "branch"]

_CUSTOMER_COLS = (c.c.id, c.c.customer_code, c.c.first_name, c.c.last_name, c.c.email, c.c.phone,
                  c.c.date_of_birth, c.c.address, c.c.kyc_status, c.c.communication_preferences,
                  c.c.created_at, c.c.updated_at)
_POLICY_COLS = (p.c.id, p.c.policy_number, p.c.customer_id, c.c.first_name, c.c.last_name, p.c.policy_type,
                p.c.premium_amount, p.c.sum_assured, p.c.start_date, p.c.end_date, p.c.renewal_date,
                p.c.grace_period_days, p.c.status, p.c.agent_id, p.c.branch_id, p.c.created_at,
                p.c.updated_at)
_CASE_COLS = (rc.c.id, rc.c.case_number, rc.c.policy_id, p.c.policy_number, p.c.customer_id, c.c.first_name,
              c.c.last_name, rc.c.status, rc.c.priority, rc.c.assigned_to, rc.c.batch_id, p.c.renewal_date,
              rc.c.term_end_date, rc.c.renewal_amount, rc.c.payment_status, rc.c.payment_method,
              rc.c.payment_date, rc.c.communication_attempts, rc.c.last_contact_date, rc.c.notes,
              rc.c.escalated_to, rc.c.escalation_reason, rc.c.escalated_at, rc.c.created_at, rc.c.updated_at,
              rc.c.assigned_at, rc.c.first_contact_date, rc.c.closed_at, rc.c.flags)

CUSTOMER_SORT: dict[str, ColumnElement[Any]] = {
    "createdAt": c.c.created_at, "lastName": c.c.last_name, "firstName": c.c.first_name,
    "customerCode": c.c.customer_code}
POLICY_SORT: dict[str, ColumnElement[Any]] = {
    "renewalDate": p.c.renewal_date, "endDate": p.c.end_date, "startDate": p.c.start_date,
    "premiumAmount": p.c.premium_amount, "policyNumber": p.c.policy_number, "createdAt": p.c.created_at,
    "status": case({str(k): v for k, v in POLICY_STATUS_RANK.items()}, value=p.c.status, else_=0)}
CASE_SORT: dict[str, ColumnElement[Any]] = {
    "createdAt": rc.c.created_at, "renewalDate": p.c.renewal_date, "renewalAmount": rc.c.renewal_amount,
    # priorities sort by urgency, not alphabetically
    "priority": case({str(k): v for k, v in PRIORITY_RANK.items()}, value=rc.c.priority, else_=0),
    "status": case({str(k): v for k, v in CASE_STATUS_RANK.items()}, value=rc.c.status, else_=0),
    "caseNumber": rc.c.case_number}


def _any_of(column: ColumnElement[Any], name: str, item_type: Any = String) -> Callable[[], ColumnElement[bool]]:
    return lambda: any_of(column, name, item_type)


_CUSTOMER_WHERE: Conditions = {
    "kyc_status": _any_of(c.c.kyc_status, "kyc_status"),
    "q": lambda: c.c.search_vector.op("@@")(prefix_tsquery()),
}
_POLICY_WHERE: Conditions = {
    "status": _any_of(p.c.status, "status"),
    "policy_type": _any_of(p.c.policy_type, "policy_type"),
    "branch_id": _any_of(p.c.branch_id, "branch_id", Integer),
    "customer_id": _any_of(p.c.customer_id, "customer_id", Integer),
    "renewal_from": lambda: p.c.renewal_date >= bindparam("renewal_from"),
    "renewal_to": lambda: p.c.renewal_date <= bindparam("renewal_to"),
    "q": lambda: or_(p.c.search_vector.op("@@")(prefix_tsquery()), c.c.search_vector.op("@@")(prefix_tsquery())),
}
CASE_WHERE: Conditions = {
    "status": _any_of(rc.c.status, "status"),
    "priority": _any_of(rc.c.priority, "priority"),
    "assigned_to": _any_of(rc.c.assigned_to, "assigned_to", Integer),
    "batch_id": _any_of(rc.c.batch_id, "batch_id", Integer),
    "renewal_from": lambda: p.c.renewal_date >= bindparam("renewal_from"),
    "renewal_to": lambda: p.c.renewal_date <= bindparam("renewal_to"),
    "q": lambda: or_(p.c.search_vector.op("@@")(prefix_tsquery()), c.c.search_vector.op("@@")(prefix_tsquery()),
                     rc.c.case_number.like(bindparam("case_prefix"))),
}


def _owns_case() -> ColumnElement[bool]:
    user = bindparam("scope_user", type_=Integer)
    return or_(rc.c.assigned_to == user, rc.c.escalated_to == user)


# The cases a scope lets its user see; "all" adds no condition.
CASE_SCOPE: dict[Scope, Callable[[], tuple[ColumnElement[bool], ...]]] = {
    "all": lambda: (),
    "own": lambda: (_owns_case(),),
    "branch": lambda: (or_(_owns_case(), p.c.branch_id == bindparam("scope_branch", type_=Integer)),),
}


def case_scope(visibility: Visibility) -> tuple[Scope, dict[str, int]]:
    """The scope's statement shape and bound values; a branch reach without a branch is an own reach."""
    if visibility.reach == "all":
        return "all", {}
    assert visibility.user_id is not None  # Visibility refuses an own or branch reach without a user
    if visibility.reach == "branch" and visibility.branch_id is not None:
        return "branch", {"scope_user": visibility.user_id, "scope_branch": visibility.branch_id}
    return "own", {"scope_user": visibility.user_id}


def filter_params(filters: CustomerFilters | PolicyFilters | CaseFilters) -> dict[str, Any]:
    """The bound values of the filters that are present; `q` becomes a prefix tsquery."""
    values: dict[str, Any] = {}
    for name in filters.__struct_fields__:
        value = getattr(filters, name)
        if name == "q":
            tsq = tsquery_param(value)
            if tsq:
                prefix = (value or "").strip().upper()
                for special in ("\\", "%", "_"):  # LIKE's escape character is a backslash
                    prefix = prefix.replace(special, "\\" + special)
                values.update(q=True, tsq=tsq, case_prefix=prefix + "%")
        elif value not in (None, ()):
            values[name] = list(value) if isinstance(value, tuple) else value
    return values


def filter_shape(params: dict[str, Any], where: Conditions) -> tuple[str, ...]:
    return tuple(name for name in where if name in params)


@lru_cache(maxsize=256)
def _customers_base(shape: tuple[str, ...]) -> Select[Any]:
    return select(*_CUSTOMER_COLS).where(and_(True, *(_CUSTOMER_WHERE[n]() for n in shape)))


@lru_cache(maxsize=256)
def _customers_page(shape: tuple[str, ...], sort: tuple[SortKey, ...]) -> Select[Any]:
    return _customers_base(shape).order_by(*order_by(sort, CUSTOMER_SORT, c.c.id)).limit(LIMIT).offset(OFFSET)


@lru_cache(maxsize=256)
def _policies_base(shape: tuple[str, ...]) -> Select[Any]:
    return select(*_POLICY_COLS).select_from(p.join(c, c.c.id == p.c.customer_id)).where(
        and_(True, *(_POLICY_WHERE[n]() for n in shape)))


@lru_cache(maxsize=256)
def _policies_page(shape: tuple[str, ...], sort: tuple[SortKey, ...]) -> Select[Any]:
    order = order_by(sort, POLICY_SORT, p.c.id)
    if "q" in shape:  # the search reads customers too: page over the join
        return _policies_base(shape).order_by(*order).limit(LIMIT).offset(OFFSET)
    # every filter and sort column is on policies: pick the page's ids from the index, then join
    ids = (select(p.c.id).where(and_(True, *(_POLICY_WHERE[n]() for n in shape)))
           .order_by(*order).limit(LIMIT).offset(OFFSET).subquery("page_ids"))
    return (select(*_POLICY_COLS).select_from(ids.join(p, p.c.id == ids.c.id).join(c, c.c.id == p.c.customer_id))
            .order_by(*order))


@lru_cache(maxsize=256)
def _policies_count_base(shape: tuple[str, ...]) -> Select[Any]:
    if "q" in shape:
        return _policies_base(shape)
    return select(p.c.id).where(and_(True, *(_POLICY_WHERE[n]() for n in shape)))  # customer_id is NOT NULL


@lru_cache(maxsize=256)
def _cases_base(shape: tuple[str, ...], scope: Scope) -> Select[Any]:
    return select(*_CASE_COLS).select_from(
        rc.join(p, p.c.id == rc.c.policy_id).join(c, c.c.id == p.c.customer_id)).where(
        and_(True, *CASE_SCOPE[scope](), *(CASE_WHERE[n]() for n in shape)))


@lru_cache(maxsize=256)
def _cases_page(shape: tuple[str, ...], scope: Scope, sort: tuple[SortKey, ...]) -> Select[Any]:
    return _cases_base(shape, scope).order_by(*order_by(sort, CASE_SORT, rc.c.id)).limit(LIMIT).offset(OFFSET)


_CUSTOMER_BY_ID = _customers_base(()).where(c.c.id == bindparam("ident"))
_POLICY_BY_ID = _policies_base(()).where(p.c.id == bindparam("ident"))
_CASE_BY_ID: dict[Scope, Select[Any]] = {
    scope: _cases_base((), scope).where(rc.c.id == bindparam("ident")) for scope in CASE_SCOPE}


def _opt(cls: type[Any], value: int | None) -> Any:
    return None if value is None else cls(value)


class SqlAlchemyPoliciesReadModel:
    def __init__(self, reads: AsyncpgReadPool, *, currency: str, counter: TotalCounter | None = None) -> None:
        self._reads = reads
        self._currency = currency
        self._counter = counter or TotalCounter(reads)
        self._compiled: dict[Select[Any], CompiledQuery] = {}

    def _query(self, stmt: Select[Any]) -> CompiledQuery:
        query = self._compiled.get(stmt)
        if query is None:
            query = self._compiled[stmt] = CompiledQuery(stmt)
        return query

    async def _one(self, stmt: Select[Any], ident: int, params: dict[str, Any] | None = None) -> Row | None:
        async with self._reads.acquire() as conn:
            rows = await self._query(stmt).fetch(conn, {**(params or {}), "ident": ident})
        return rows[0] if rows else None

    async def _page(self, page_stmt: Select[Any], count_base: Select[Any], params: dict[str, Any],
                    page: PageRequest, key: str, view: Callable[[Row], V]) -> Page[V]:
        """One connection for the page and, when it cannot be derived from the page, its total."""
        async with self._reads.acquire() as conn:
            rows: list[Row] = await self._query(page_stmt).fetch(conn, {**params, **page_params(page)})
            if page.page == 1 and len(rows) < page.limit:
                total, estimate = len(rows), False
            else:
                total, estimate = await self._counter.count(conn, count_base, params, key)
        return Page(items=[view(r) for r in rows], page=page.page, limit=page.limit, total=total,
                    total_is_estimate=estimate)

    # customers
    def _customer(self, r: Row) -> CustomerView:
        return CustomerView(
            id=CustomerId(r[0]), customer_code=r[1], first_name=r[2], last_name=r[3], full_name=f"{r[2]} {r[3]}",
            email=r[4], phone=r[5], date_of_birth=r[6], address=r[7], kyc_status=r[8],
            communication_preferences=r[9], created_at=r[10], updated_at=r[11])

    async def list_customers(self, filters: CustomerFilters, page: PageRequest) -> Page[CustomerView]:
        params = filter_params(filters)
        shape = filter_shape(params, _CUSTOMER_WHERE)
        return await self._page(_customers_page(shape, page.sort), _customers_base(shape), params, page,
                                f"customers{params}", self._customer)

    async def get_customer(self, customer_id: int) -> CustomerView | None:
        row = await self._one(_CUSTOMER_BY_ID, customer_id)
        return self._customer(row) if row else None

    # policies
    def _policy(self, r: Row) -> PolicyView:
        return PolicyView(
            id=PolicyId(r[0]), policy_number=r[1], customer_id=CustomerId(r[2]), customer_name=f"{r[3]} {r[4]}",
            policy_type=r[5], premium_amount=r[6], currency=self._currency, sum_assured=r[7], start_date=r[8],
            end_date=r[9], renewal_date=r[10], grace_period_days=r[11], status=r[12],
            agent_id=_opt(UserId, r[13]), branch_id=_opt(BranchId, r[14]), created_at=r[15], updated_at=r[16])

    async def list_policies(self, filters: PolicyFilters, page: PageRequest) -> Page[PolicyView]:
        params = filter_params(filters)
        shape = filter_shape(params, _POLICY_WHERE)
        return await self._page(_policies_page(shape, page.sort), _policies_count_base(shape), params, page,
                                f"policies{params}", self._policy)

    async def get_policy(self, policy_id: int) -> PolicyView | None:
        row = await self._one(_POLICY_BY_ID, policy_id)
        return self._policy(row) if row else None

    # cases
    def _case(self, r: Row) -> CaseView:
        return CaseView(
            id=CaseId(r[0]), case_number=r[1], policy_id=PolicyId(r[2]), policy_number=r[3],
            customer_id=CustomerId(r[4]), customer_name=f"{r[5]} {r[6]}", status=r[7], priority=r[8],
            assigned_to=_opt(UserId, r[9]), batch_id=_opt(BatchId, r[10]), renewal_date=r[11],
            term_end_date=r[12], renewal_amount=r[13], currency=self._currency, payment_status=r[14],
            payment_method=r[15], payment_date=r[16], communication_attempts=r[17], last_contact_date=r[18],
            notes=r[19], escalated_to=_opt(UserId, r[20]), escalation_reason=r[21], escalated_at=r[22],
            created_at=r[23], updated_at=r[24], assigned_at=r[25], first_contact_date=r[26], closed_at=r[27],
            flags=_json_list(r[28]))

    async def list_cases(self, filters: CaseFilters, page: PageRequest,
                         visibility: Visibility) -> Page[CaseView]:
        params = filter_params(filters)
        shape = filter_shape(params, CASE_WHERE)
        scope, scope_params = case_scope(visibility)
        params.update(scope_params)
        # the total's cache key names the scope and its ids: callers who see different cases never share one
        return await self._page(_cases_page(shape, scope, page.sort), _cases_base(shape, scope), params, page,
                                f"cases:{scope}{params}", self._case)

    async def get_case(self, case_id: int, visibility: Visibility) -> CaseView | None:
        scope, scope_params = case_scope(visibility)
        row = await self._one(_CASE_BY_ID[scope], case_id, scope_params)
        return self._case(row) if row else None


def _json_list(value: Any) -> list[dict[str, Any]]:
    """A JSONB array as the pool hands it over (decoded, or as text without a codec)."""
    decoded = json.loads(value) if isinstance(value, str) else value
    return list(decoded or [])
