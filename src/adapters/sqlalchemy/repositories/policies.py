"""SQL repositories of the policies context: rows in, domain aggregates out."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Any

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_integrity_error
from adapters.sqlalchemy.tables.policies import SEQUENCES, customers, policies, renewal_cases
from domain.policies import rules
from domain.policies.model import (
    CasePriority,
    CaseStatus,
    Customer,
    KycStatus,
    PaymentStatus,
    Policy,
    PolicyStatus,
    RenewalCase,
)

__all__ = [
    "SqlAlchemyCustomerRepository", "SqlAlchemyNumberSequence", "SqlAlchemyPolicyRepository",
    "SqlAlchemyRenewalCaseRepository",
]

_GENERATED = {"id", "created_at", "updated_at"}


def _columns(entity: object, table: Table) -> dict[str, Any]:
    names = {c.name for c in table.columns} - _GENERATED
    return {f.name: getattr(entity, f.name) for f in fields(entity)  # type: ignore[arg-type]
            if f.name in names}


class _Repository:
    table: Table

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _insert(self, entity: Any) -> None:
        stmt = insert(self.table).values(**_columns(entity, self.table)).returning(
            self.table.c.id, self.table.c.created_at, self.table.c.updated_at)
        try:
            async with self._session.begin_nested():
                row = (await self._session.execute(stmt)).one()
        except IntegrityError as exc:
            raise translate_integrity_error(exc) from None
        entity.id, entity.created_at, entity.updated_at = row

    async def _update(self, entity: Any) -> None:
        stmt = (update(self.table).where(self.table.c.id == entity.id)
                .values(**_columns(entity, self.table), updated_at=func.now())
                .returning(self.table.c.updated_at))
        try:
            async with self._session.begin_nested():
                entity.updated_at = (await self._session.execute(stmt)).scalar_one()
        except IntegrityError as exc:
            raise translate_integrity_error(exc) from None

    async def _row(self, entity_id: int) -> Any:
        cols = [c for c in self.table.columns if c.name != "search_vector"]
        return (await self._session.execute(
            select(*cols).where(self.table.c.id == entity_id).with_for_update())).one_or_none()


class SqlAlchemyCustomerRepository(_Repository):
    table = customers

    async def get(self, customer_id: int) -> Customer | None:
        row = await self._row(customer_id)
        if row is None:
            return None
        data = dict(row._mapping)
        data.pop("kyc_documents", None)
        data["kyc_status"] = KycStatus(data["kyc_status"])
        return Customer(**data)

    async def add(self, customer: Customer) -> None:
        await self._insert(customer)

    async def save(self, customer: Customer) -> None:
        await self._update(customer)


class SqlAlchemyPolicyRepository(_Repository):
    table = policies

    async def get(self, policy_id: int) -> Policy | None:
        row = await self._row(policy_id)
        if row is None:
            return None
        data = dict(row._mapping)
        data["status"] = PolicyStatus(data["status"])
        return Policy(**data)

    async def add(self, policy: Policy) -> None:
        await self._insert(policy)

    async def save(self, policy: Policy) -> None:
        await self._update(policy)


_OPEN_DUE_CASES = text(f"""
WITH due AS (
    SELECT p.id, p.end_date, p.premium_amount, p.renewal_date, nextval('renewal_case_number_seq') AS seq
    FROM policies p
    WHERE p.status = 'active'
      AND p.renewal_date - CAST(:window AS integer) <= CAST(:today AS date)
      AND CAST(:today AS date) <= p.renewal_date + p.grace_period_days
      AND (CAST(:policy_id AS integer) IS NULL OR p.id = CAST(:policy_id AS integer))
      AND NOT EXISTS (SELECT 1 FROM renewal_cases rc
                      WHERE rc.policy_id = p.id AND rc.term_end_date = p.end_date)
    ORDER BY p.id
)
INSERT INTO renewal_cases (case_number, policy_id, term_end_date, renewal_amount, priority)
SELECT 'RC-' || CAST(:year AS text) || '-' || lpad(seq::text, greatest(6, length(seq::text)), '0'),
       id, end_date, premium_amount,
       CASE WHEN renewal_date - CAST(:today AS date) <= {rules.URGENT_DAYS}
                 AND premium_amount >= {rules.HIGH_PREMIUM} THEN 'urgent'
            WHEN renewal_date - CAST(:today AS date) <= {rules.URGENT_DAYS}
                 OR premium_amount >= {rules.HIGH_PREMIUM} THEN 'high'
            WHEN renewal_date - CAST(:today AS date) > {rules.SOON_DAYS}
                 AND premium_amount < {rules.LOW_PREMIUM} THEN 'low'
            ELSE 'medium' END
FROM due
ON CONFLICT (policy_id, term_end_date) DO NOTHING
RETURNING *
""")


_LAPSING = text("""
SELECT rc.* FROM renewal_cases rc JOIN policies p ON p.id = rc.policy_id
WHERE rc.status IN ('new', 'contacted', 'in_progress', 'payment_pending') AND rc.payment_status <> 'paid'
  AND rc.term_end_date = p.end_date AND p.renewal_date + p.grace_period_days < CAST(:today AS date)
ORDER BY rc.id LIMIT :limit
FOR UPDATE OF rc SKIP LOCKED
""")


class SqlAlchemyRenewalCaseRepository(_Repository):
    table = renewal_cases

    async def get(self, case_id: int) -> RenewalCase | None:
        row = await self._row(case_id)
        return None if row is None else _case(dict(row._mapping))

    async def save(self, case: RenewalCase) -> None:
        await self._update(case)

    async def lapsing(self, *, today: date, limit: int) -> list[RenewalCase]:
        """Open, unpaid cases of the current term whose grace period ended before `today`, locked (SKIP LOCKED)."""
        result = await self._session.execute(_LAPSING, {"today": today, "limit": limit})
        return [_case(dict(r._mapping)) for r in result]

    async def open_due_cases(self, *, today: date, window_days: int,
                             policy_id: int | None = None) -> list[RenewalCase]:
        result = await self._session.execute(_OPEN_DUE_CASES, {
            "today": today, "window": window_days, "policy_id": policy_id, "year": str(today.year)})
        return [_case(dict(r._mapping)) for r in result]


def _case(data: dict[str, Any]) -> RenewalCase:
    data["status"] = CaseStatus(data["status"])
    data["priority"] = CasePriority(data["priority"])
    data["payment_status"] = PaymentStatus(data["payment_status"])
    return RenewalCase(**data)


class SqlAlchemyNumberSequence:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def next_value(self, name: str) -> int:
        value: int | None = await self._session.scalar(select(SEQUENCES[name].next_value()))
        if value is None:
            raise RuntimeError(f"sequence {name} returned nothing")
        return value
