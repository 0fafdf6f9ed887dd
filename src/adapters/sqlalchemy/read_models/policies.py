"""Column-level list and detail queries of the policies context, straight into msgspec views."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.listing import TotalCounter, order_by, prefix_tsquery
from adapters.sqlalchemy.tables.policies import customers as c
from adapters.sqlalchemy.tables.policies import policies as p
from adapters.sqlalchemy.tables.policies import renewal_cases as rc
from application.policies.ports import CaseFilters, CustomerFilters, PolicyFilters
from application.policies.views import CaseView, CustomerView, PolicyView
from application.shared.pagination import Page, PageRequest
from domain.shared.ids import BatchId, BranchId, CaseId, CustomerId, PolicyId, UserId

__all__ = ["SqlAlchemyPoliciesReadModel"]

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
              rc.c.escalated_to, rc.c.escalation_reason, rc.c.escalated_at, rc.c.created_at, rc.c.updated_at)

CUSTOMER_SORT: dict[str, ColumnElement[Any]] = {
    "createdAt": c.c.created_at, "lastName": c.c.last_name, "firstName": c.c.first_name,
    "customerCode": c.c.customer_code}
POLICY_SORT: dict[str, ColumnElement[Any]] = {
    "renewalDate": p.c.renewal_date, "endDate": p.c.end_date, "startDate": p.c.start_date,
    "premiumAmount": p.c.premium_amount, "policyNumber": p.c.policy_number, "createdAt": p.c.created_at,
    "status": p.c.status}
CASE_SORT: dict[str, ColumnElement[Any]] = {
    "createdAt": rc.c.created_at, "renewalDate": p.c.renewal_date, "renewalAmount": rc.c.renewal_amount,
    "priority": rc.c.priority, "status": rc.c.status, "caseNumber": rc.c.case_number}


def _opt(cls: type[Any], value: int | None) -> Any:
    return None if value is None else cls(value)


class SqlAlchemyPoliciesReadModel:
    def __init__(self, engine: AsyncEngine, *, currency: str, counter: TotalCounter | None = None) -> None:
        self._engine = engine
        self._currency = currency
        self._counter = counter or TotalCounter()

    async def _rows(self, stmt: Select[Any]) -> list[Sequence[Any]]:
        async with self._engine.connect() as conn:
            return list((await conn.execute(stmt)).all())

    async def _page(self, base: Select[Any], page: PageRequest, sort: dict[str, ColumnElement[Any]],
                    tiebreak: ColumnElement[Any], key: tuple[object, ...]) -> tuple[list[Sequence[Any]], int, bool]:
        """One connection for the page and, when it cannot be derived from the page, its total."""
        stmt = base.order_by(*order_by(page, sort, tiebreak)).limit(page.limit).offset(page.offset)
        async with self._engine.connect() as conn:
            rows: list[Sequence[Any]] = list((await conn.execute(stmt)).all())
            if page.page == 1 and len(rows) < page.limit:
                return rows, len(rows), False
            total, estimate = await self._counter.count(conn, base, key)
        return rows, total, estimate

    # customers
    def _customer(self, r: Sequence[Any]) -> CustomerView:
        return CustomerView(
            id=CustomerId(r[0]), customer_code=r[1], first_name=r[2], last_name=r[3], full_name=f"{r[2]} {r[3]}",
            email=r[4], phone=r[5], date_of_birth=r[6], address=r[7], kyc_status=r[8],
            communication_preferences=r[9], created_at=r[10], updated_at=r[11])

    async def list_customers(self, filters: CustomerFilters, page: PageRequest) -> Page[CustomerView]:
        conds: list[ColumnElement[bool]] = []
        if filters.kyc_status:
            conds.append(c.c.kyc_status.in_(filters.kyc_status))
        if filters.q and (tsq := prefix_tsquery(filters.q)) is not None:
            conds.append(c.c.search_vector.op("@@")(tsq))
        base = select(*_CUSTOMER_COLS).where(and_(True, *conds))
        rows, total, est = await self._page(base, page, CUSTOMER_SORT, c.c.id, ("customers", filters))
        return Page(items=[self._customer(r) for r in rows], page=page.page, limit=page.limit, total=total,
                    total_is_estimate=est)

    async def get_customer(self, customer_id: int) -> CustomerView | None:
        rows = await self._rows(select(*_CUSTOMER_COLS).where(c.c.id == customer_id))
        return self._customer(rows[0]) if rows else None

    # policies
    def _policy(self, r: Sequence[Any]) -> PolicyView:
        return PolicyView(
            id=PolicyId(r[0]), policy_number=r[1], customer_id=CustomerId(r[2]), customer_name=f"{r[3]} {r[4]}",
            policy_type=r[5], premium_amount=r[6], currency=self._currency, sum_assured=r[7], start_date=r[8],
            end_date=r[9], renewal_date=r[10], grace_period_days=r[11], status=r[12],
            agent_id=_opt(UserId, r[13]), branch_id=_opt(BranchId, r[14]), created_at=r[15], updated_at=r[16])

    async def list_policies(self, filters: PolicyFilters, page: PageRequest) -> Page[PolicyView]:
        conds: list[ColumnElement[bool]] = []
        if filters.status:
            conds.append(p.c.status.in_(filters.status))
        if filters.policy_type:
            conds.append(p.c.policy_type.in_(filters.policy_type))
        if filters.branch_id:
            conds.append(p.c.branch_id.in_(filters.branch_id))
        if filters.customer_id:
            conds.append(p.c.customer_id.in_(filters.customer_id))
        if filters.renewal_from:
            conds.append(p.c.renewal_date >= filters.renewal_from)
        if filters.renewal_to:
            conds.append(p.c.renewal_date <= filters.renewal_to)
        if filters.q and (tsq := prefix_tsquery(filters.q)) is not None:
            conds.append(or_(p.c.search_vector.op("@@")(tsq), c.c.search_vector.op("@@")(tsq)))
        base = select(*_POLICY_COLS).select_from(p.join(c, c.c.id == p.c.customer_id)).where(and_(True, *conds))
        rows, total, est = await self._page(base, page, POLICY_SORT, p.c.id, ("policies", filters))
        return Page(items=[self._policy(r) for r in rows], page=page.page, limit=page.limit, total=total,
                    total_is_estimate=est)

    async def get_policy(self, policy_id: int) -> PolicyView | None:
        rows = await self._rows(select(*_POLICY_COLS).select_from(p.join(c, c.c.id == p.c.customer_id))
                                .where(p.c.id == policy_id))
        return self._policy(rows[0]) if rows else None

    # cases
    def _case(self, r: Sequence[Any]) -> CaseView:
        return CaseView(
            id=CaseId(r[0]), case_number=r[1], policy_id=PolicyId(r[2]), policy_number=r[3],
            customer_id=CustomerId(r[4]), customer_name=f"{r[5]} {r[6]}", status=r[7], priority=r[8],
            assigned_to=_opt(UserId, r[9]), batch_id=_opt(BatchId, r[10]), renewal_date=r[11],
            term_end_date=r[12], renewal_amount=r[13], currency=self._currency, payment_status=r[14],
            payment_method=r[15], payment_date=r[16], communication_attempts=r[17], last_contact_date=r[18],
            notes=r[19], escalated_to=_opt(UserId, r[20]), escalation_reason=r[21], escalated_at=r[22],
            created_at=r[23], updated_at=r[24])

    def _case_base(self) -> Select[Any]:
        return select(*_CASE_COLS).select_from(
            rc.join(p, p.c.id == rc.c.policy_id).join(c, c.c.id == p.c.customer_id))

    async def list_cases(self, filters: CaseFilters, page: PageRequest) -> Page[CaseView]:
        conds: list[ColumnElement[bool]] = []
        if filters.status:
            conds.append(rc.c.status.in_(filters.status))
        if filters.priority:
            conds.append(rc.c.priority.in_(filters.priority))
        if filters.assigned_to:
            conds.append(rc.c.assigned_to.in_(filters.assigned_to))
        if filters.batch_id:
            conds.append(rc.c.batch_id.in_(filters.batch_id))
        if filters.renewal_from:
            conds.append(p.c.renewal_date >= filters.renewal_from)
        if filters.renewal_to:
            conds.append(p.c.renewal_date <= filters.renewal_to)
        if filters.q and (tsq := prefix_tsquery(filters.q)) is not None:
            conds.append(or_(p.c.search_vector.op("@@")(tsq), c.c.search_vector.op("@@")(tsq),
                             rc.c.case_number.startswith(filters.q.strip().upper(), autoescape=True)))
        base = self._case_base().where(and_(True, *conds))
        rows, total, est = await self._page(base, page, CASE_SORT, rc.c.id, ("cases", filters))
        return Page(items=[self._case(r) for r in rows], page=page.page, limit=page.limit, total=total,
                    total_is_estimate=est)

    async def get_case(self, case_id: int) -> CaseView | None:
        rows = await self._rows(self._case_base().where(rc.c.id == case_id))
        return self._case(rows[0]) if rows else None
