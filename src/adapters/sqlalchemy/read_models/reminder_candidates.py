"""Open, unpaid renewal cases that may have a reminder step due, with what the templates need.

One statement per batch, keyset on the case id: renewal_cases ⋈ policies ⋈ customers, the offsets already claimed
for the term aggregated from `reminder_sends` (its unique index on policy, term end, offset serves the lookup),
first seen = the day the case was opened in the business time zone.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, Integer, Select, cast, func, literal, select, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.tables.policies import customers, policies, renewal_cases
from adapters.sqlalchemy.tables.reminders import reminder_sends
from application.reminders.ports import STOPPED_POLICY_STATUSES, ReminderCandidate
from domain.policies.model import CLOSED_CASE_STATUSES, PaymentStatus

__all__ = ["SqlReminderCandidates"]

_RC, _P, _C, _S = renewal_cases.c, policies.c, customers.c, reminder_sends.c


class SqlReminderCandidates:
    """Implements `ReminderCandidates`; `SqlReminderCandidates(session_factory, business_timezone)`."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], business_timezone: str) -> None:
        self._session_factory = session_factory
        self._tz = business_timezone

    def _select(self) -> Select[Any]:
        sent = (select(func.coalesce(func.array_agg(_S.offset_days), type_coerce([], ARRAY(Integer))))
                .where(_S.policy_id == _RC.policy_id, _S.term_end_date == _RC.term_end_date)
                .scalar_subquery())
        first_seen = cast(func.timezone(literal(self._tz), _RC.created_at), Date)
        return (select(_RC.id, _RC.policy_id, _P.customer_id, _RC.term_end_date, _P.policy_type, _P.policy_number,
                       (_C.first_name + " " + _C.last_name).label("customer_name"), _P.renewal_date,
                       _RC.renewal_amount, _P.grace_period_days, first_seen.label("first_seen"),
                       sent.label("sent"))
                .select_from(renewal_cases.join(policies, _P.id == _RC.policy_id)
                             .join(customers, _C.id == _P.customer_id))
                .where(_RC.status.not_in([str(s) for s in CLOSED_CASE_STATUSES]),
                       _RC.payment_status != str(PaymentStatus.PAID),
                       _P.status.not_in(STOPPED_POLICY_STATUSES)))

    async def due(self, today: date, *, after_case_id: int, limit: int,
                  earliest_offset: int) -> list[ReminderCandidate]:
        query = (self._select()
                 .where(_RC.id > after_case_id,
                        _P.renewal_date <= today - timedelta(days=earliest_offset),
                        _P.renewal_date + _P.grace_period_days >= literal(today, Date))
                 .order_by(_RC.id).limit(limit))
        async with self._session_factory() as session:
            rows = (await session.execute(query)).all()
        return [_candidate(row._mapping) for row in rows]

    async def get(self, case_id: int) -> ReminderCandidate | None:
        async with self._session_factory() as session:
            row = (await session.execute(self._select().where(_RC.id == case_id))).first()
        return None if row is None else _candidate(row._mapping)


def _candidate(row: Any) -> ReminderCandidate:
    return ReminderCandidate(
        case_id=row["id"], policy_id=row["policy_id"], customer_id=row["customer_id"],
        term_end_date=row["term_end_date"], policy_type=row["policy_type"], policy_number=row["policy_number"],
        customer_name=row["customer_name"].strip(), renewal_date=row["renewal_date"],
        renewal_amount=row["renewal_amount"], grace_days=row["grace_period_days"], first_seen=row["first_seen"],
        sent=frozenset(row["sent"] or ()))
