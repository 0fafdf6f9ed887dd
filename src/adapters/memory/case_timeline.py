"""The in-memory twin of the case timeline's sources, reading the MemoryStore's tables.

`messages` hold messaging's domain `Message`s; the desk's, reminders' and payments' records are chosen by those
contexts' memory adapters, so they are read defensively: by attribute (or key, for plain dicts) named as the SQL
table's column (`case_id`, `kind`, `actor_id`, `at`, `summary`, `data`, ...). A record without a `case_id` (or, for
refunds, a `payment_id` of a payment of the case) is not on any case's timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from adapters.memory.read_models import case_visible
from adapters.memory.store import MemoryStore
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
from domain.messaging.model import Message

__all__ = ["InMemoryCaseHeaders", "InMemoryTimelineSource", "memory_timeline_sources"]

_STATUSES = ("queued", "sent", "undelivered", "failed", "delivered", "read")


def _get(record: Any, name: str, default: Any = None) -> Any:
    if isinstance(record, dict):
        return record.get(name, default)
    return getattr(record, name, default)


def _id(key: int, record: Any) -> int:
    value = _get(record, "id")
    return int(value) if value is not None else key


def _text(value: Any) -> str:
    return str(value.value) if hasattr(value, "value") else str(value)


class InMemoryCaseHeaders:
    def __init__(self, store: MemoryStore, *, currency: str) -> None:
        self._store = store
        self._currency = currency

    async def header(self, case_id: int, visibility: Visibility) -> CaseHeader | None:
        k = self._store.tables.cases.get(case_id)
        if k is None or not case_visible(k, self._store.tables.policies[k.policy_id], visibility):
            return None
        assert k.id is not None and k.created_at is not None
        return CaseHeader(case_id=k.id, case_number=k.case_number, status=str(k.status), priority=str(k.priority),
                          payment_status=str(k.payment_status), renewal_amount=k.renewal_amount,
                          currency=self._currency, created_at=k.created_at, closed_at=k.closed_at,
                          assigned_to=k.assigned_to)


class InMemoryTimelineSource:
    """The entries `build` makes of a case, read from the committed store at each call."""

    def __init__(self, build: Callable[[int], Iterable[TimelineEntry]]) -> None:
        self._build = build

    async def entries(self, case_id: int) -> list[TimelineEntry]:
        return list(self._build(case_id))


def _case_rows(rows: dict[Any, Any], case_id: int) -> Iterable[tuple[int, Any]]:
    return ((_id(key, r), r) for key, r in rows.items() if _get(r, "case_id") == case_id)


def memory_timeline_sources(store: MemoryStore, *, currency: str) -> list[TimelineSource]:
    """The same six sources as `sql_timeline_sources`, over the store's tables."""

    def events(case_id: int) -> Iterable[TimelineEntry]:
        for ident, r in _case_rows(store.tables.case_events, case_id):
            yield case_event_entry(event_id=ident, kind=_get(r, "kind"), actor_id=_get(r, "actor_id"),
                                   at=_get(r, "at"), summary=_get(r, "summary") or "", data=_get(r, "data") or {})

    def template_name(msg: Message) -> str | None:
        template = store.tables.templates.get(msg.template_id) if msg.template_id is not None else None
        return template.name if template is not None else msg.whatsapp_template

    def messages(case_id: int) -> Iterable[TimelineEntry]:
        for msg in store.tables.messages.values():
            if msg.case_id != case_id or msg.id is None or msg.created_at is None:
                continue
            yield message_entry(
                message_id=msg.id, channel=_text(msg.channel), status=_text(msg.status),
                purpose=getattr(msg, "purpose", None), template=template_name(msg), subject=msg.subject,
                body=msg.body, error_code=msg.error_code, error_text=msg.error_text, created_by=msg.created_by,
                created_at=msg.created_at, times={s: msg.times.get(s) for s in _STATUSES})

    def steps(case_id: int) -> Iterable[TimelineEntry]:
        for ident, r in _case_rows(store.tables.reminder_sends, case_id):
            yield reminder_step_entry(
                send_id=ident, offset_days=_get(r, "offset_days"), template=_get(r, "template"),
                due_on=_get(r, "due_on"), status=_text(_get(r, "status")), channels=_get(r, "channels") or [],
                reason=_get(r, "reason"), created_at=_get(r, "created_at"))

    def payments(case_id: int) -> Iterable[TimelineEntry]:
        for ident, r in _case_rows(store.tables.payments, case_id):
            yield from payment_entries(
                payment_id=ident, amount=_get(r, "amount"), currency=_get(r, "currency"),
                status=_text(_get(r, "status")), provider=_get(r, "provider"), channel=_get(r, "channel"),
                paid_amount=_get(r, "paid_amount"), method=_get(r, "method"), paid_at=_get(r, "paid_at"),
                provider_payment_id=_get(r, "provider_payment_id"), flags=_get(r, "flags") or [],
                created_by=_get(r, "created_by"), created_at=_get(r, "created_at"),
                updated_at=_get(r, "updated_at") or _get(r, "created_at"))

    def refunds(case_id: int) -> Iterable[TimelineEntry]:
        paid = {ident: r for ident, r in _case_rows(store.tables.payments, case_id)}
        for key, r in store.tables.payment_refunds.items():
            payment = paid.get(_get(r, "payment_id"))
            if payment is None:
                continue
            yield refund_entry(
                refund_id=_id(key, r), payment_id=_get(r, "payment_id"), amount=_get(r, "amount"),
                currency=_get(payment, "currency"), status=_text(_get(r, "status")),
                provider_refund_id=_get(r, "provider_refund_id"), reason=_get(r, "reason"),
                created_by=_get(r, "created_by"), created_at=_get(r, "created_at"))

    def terms(case_id: int) -> Iterable[TimelineEntry]:
        for ident, r in _case_rows(store.tables.policy_terms, case_id):
            yield term_entry(
                term_id=ident, start_date=_get(r, "start_date"), end_date=_get(r, "end_date"),
                renewal_date=_get(r, "renewal_date"), premium_amount=_get(r, "premium_amount"), currency=currency,
                outcome=_text(_get(r, "outcome")), payment_id=_get(r, "payment_id"),
                created_at=_get(r, "created_at"))

    return [InMemoryTimelineSource(build) for build in (events, messages, steps, payments, refunds, terms)]
