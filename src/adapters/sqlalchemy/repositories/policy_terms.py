"""SQL repository of past policy terms (policies context)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.tables.cases import policy_terms
from domain.policies.terms import PolicyTerm

__all__ = ["SqlAlchemyPolicyTermRepository"]

_T = policy_terms.c
_FIELDS = ("policy_id", "start_date", "end_date", "renewal_date", "premium_amount", "outcome", "case_id",
           "payment_id")


class SqlAlchemyPolicyTermRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, term: PolicyTerm) -> bool:
        """Keep the term once per (policy, end date); False when it was already kept."""
        stmt = (insert(policy_terms).values(**{name: getattr(term, name) for name in _FIELDS})
                .on_conflict_do_nothing(index_elements=["policy_id", "end_date"])
                .returning(_T.id, _T.created_at))
        row = (await self._session.execute(stmt)).one_or_none()
        if row is None:
            return False
        term.id, term.created_at = row
        return True

    async def of_policy(self, policy_id: int) -> list[PolicyTerm]:
        rows = await self._session.execute(
            select(policy_terms).where(_T.policy_id == policy_id).order_by(_T.end_date))
        return [PolicyTerm(**{name: row._mapping[name] for name in (*_FIELDS, "id", "created_at")}) for row in rows]
