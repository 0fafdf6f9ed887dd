"""The case timeline's sources on PostgreSQL: one column-level query per table, run on the asyncpg read pool.

The tables belong to several contexts (the desk's `case_events`, messaging's `messages`, reminders'
`reminder_sends`, payments' `payments` and `payment_refunds`, the policies' `policy_terms`); this module only
reads them, by the case id each row carries. The header query applies the caller's scope exactly as the case list
does (the same conditions, imported from the policies read model).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, func, select

from adapters.asyncpg.read_pool import AsyncpgReadPool
from adapters.sqlalchemy.listing import CompiledQuery
from adapters.sqlalchemy.read_models.policies import CASE_SCOPE, case_scope
from adapters.sqlalchemy.tables.cases import case_events as ce
from adapters.sqlalchemy.tables.cases import policy_terms as pt
from adapters.sqlalchemy.tables.messaging import STATUS_TIMES, templates
from adapters.sqlalchemy.tables.messaging import messages as m
from adapters.sqlalchemy.tables.payments import payment_refunds as pr
from adapters.sqlalchemy.tables.payments import payments as pay
from adapters.sqlalchemy.tables.policies import policies as p
from adapters.sqlalchemy.tables.policies import renewal_cases as rc
from adapters.sqlalchemy.tables.reminders import reminder_sends as rs
from application.policies.timeline import CaseHeader, TimelineEntry, TimelineSource
from application.policies.timeline_entries import (
    case_event_entry,
    message_entry,
    payment_entries,
    refund_entry,
    reminder_step_entry,
    term_entry,
)
from application.shared.visibility import Visibility

__all__ = ["SqlCaseHeaders", "SqlTimelineSource", "sql_timeline_sources"]

Row = Sequence[Any]
CASE: BindParameter[int] = bindparam("case_id")

_HEADER: dict[str, CompiledQuery] = {
    scope: CompiledQuery(
        select(rc.c.id, rc.c.case_number, rc.c.status, rc.c.priority, rc.c.payment_status, rc.c.renewal_amount,
               rc.c.created_at, rc.c.closed_at, rc.c.assigned_to)
        .select_from(rc.join(p, p.c.id == rc.c.policy_id))
        .where(rc.c.id == CASE, *conditions()))
    for scope, conditions in CASE_SCOPE.items()}


class SqlCaseHeaders:
    def __init__(self, reads: AsyncpgReadPool, *, currency: str) -> None:
        self._reads = reads
        self._currency = currency

    async def header(self, case_id: int, visibility: Visibility) -> CaseHeader | None:
        scope, params = case_scope(visibility)
        async with self._reads.acquire() as conn:
            rows = await _HEADER[scope].fetch(conn, {**params, "case_id": case_id})
        if not rows:
            return None
        r = rows[0]
        return CaseHeader(case_id=r[0], case_number=r[1], status=r[2], priority=r[3], payment_status=r[4],
                          renewal_amount=r[5], currency=self._currency, created_at=r[6], closed_at=r[7],
                          assigned_to=r[8])


class SqlTimelineSource:
    """One table's rows of a case, each turned into timeline entries by `build`."""

    def __init__(self, reads: AsyncpgReadPool, stmt: Select[Any], build: Callable[[Row], list[TimelineEntry]]) -> None:
        self._reads = reads
        self._query = CompiledQuery(stmt)
        self._build = build

    async def entries(self, case_id: int) -> list[TimelineEntry]:
        async with self._reads.acquire() as conn:
            rows = await self._query.fetch(conn, {"case_id": case_id})
        return [entry for row in rows for entry in self._build(row)]


_TIME_NAMES = tuple(STATUS_TIMES)
_EVENTS = select(ce.c.id, ce.c.kind, ce.c.actor_id, ce.c.at, ce.c.summary, ce.c.data).where(ce.c.case_id == CASE)
_MESSAGES = (
    select(m.c.id, m.c.channel, m.c.status, m.c.purpose, func.coalesce(templates.c.name, m.c.whatsapp_template),
           m.c.subject, m.c.body, m.c.error_code, m.c.error_text, m.c.created_by, m.c.created_at,
           *(m.c[column] for column in STATUS_TIMES.values()))
    .select_from(m.outerjoin(templates, templates.c.id == m.c.template_id)).where(m.c.case_id == CASE))
_STEPS = select(rs.c.id, rs.c.offset_days, rs.c.template, rs.c.due_on, rs.c.status, rs.c.channels, rs.c.reason,
                rs.c.created_at).where(rs.c.case_id == CASE)
_PAYMENTS = select(pay.c.id, pay.c.amount, pay.c.currency, pay.c.status, pay.c.provider, pay.c.channel,
                   pay.c.paid_amount, pay.c.method, pay.c.paid_at, pay.c.provider_payment_id, pay.c.flags,
                   pay.c.created_by, pay.c.created_at, pay.c.updated_at).where(pay.c.case_id == CASE)
_REFUNDS = (select(pr.c.id, pr.c.payment_id, pr.c.amount, pay.c.currency, pr.c.status, pr.c.provider_refund_id,
                   pr.c.reason, pr.c.created_by, pr.c.created_at)
            .select_from(pr.join(pay, pay.c.id == pr.c.payment_id)).where(pay.c.case_id == CASE))
_TERMS = select(pt.c.id, pt.c.start_date, pt.c.end_date, pt.c.renewal_date, pt.c.premium_amount, pt.c.outcome,
                pt.c.payment_id, pt.c.created_at).where(pt.c.case_id == CASE)


def _event(r: Row) -> list[TimelineEntry]:
    return [case_event_entry(event_id=r[0], kind=r[1], actor_id=r[2], at=r[3], summary=r[4], data=r[5])]


def _message(r: Row) -> list[TimelineEntry]:
    return [message_entry(message_id=r[0], channel=r[1], status=r[2], purpose=r[3], template=r[4], subject=r[5],
                          body=r[6], error_code=r[7], error_text=r[8], created_by=r[9], created_at=r[10],
                          times=dict(zip(_TIME_NAMES, r[11:], strict=True)))]


def _step(r: Row) -> list[TimelineEntry]:
    return [reminder_step_entry(send_id=r[0], offset_days=r[1], template=r[2], due_on=r[3], status=r[4],
                                channels=r[5] or [], reason=r[6], created_at=r[7])]


def _payment(r: Row) -> list[TimelineEntry]:
    return payment_entries(payment_id=r[0], amount=r[1], currency=r[2], status=r[3], provider=r[4], channel=r[5],
                           paid_amount=r[6], method=r[7], paid_at=r[8], provider_payment_id=r[9], flags=r[10] or [],
                           created_by=r[11], created_at=r[12], updated_at=r[13])


def _refund(r: Row) -> list[TimelineEntry]:
    return [refund_entry(refund_id=r[0], payment_id=r[1], amount=r[2], currency=r[3], status=r[4],
                         provider_refund_id=r[5], reason=r[6], created_by=r[7], created_at=r[8])]


def _term(currency: str) -> Callable[[Row], list[TimelineEntry]]:
    def build(r: Row) -> list[TimelineEntry]:
        return [term_entry(term_id=r[0], start_date=r[1], end_date=r[2], renewal_date=r[3], premium_amount=r[4],
                           currency=currency, outcome=r[5], payment_id=r[6], created_at=r[7])]
    return build


def sql_timeline_sources(reads: AsyncpgReadPool, *, currency: str) -> list[TimelineSource]:
    """Every source of the timeline: case events, messages, reminder steps, payments, refunds, kept terms."""
    return [SqlTimelineSource(reads, _EVENTS, _event), SqlTimelineSource(reads, _MESSAGES, _message),
            SqlTimelineSource(reads, _STEPS, _step), SqlTimelineSource(reads, _PAYMENTS, _payment),
            SqlTimelineSource(reads, _REFUNDS, _refund), SqlTimelineSource(reads, _TERMS, _term(currency))]
