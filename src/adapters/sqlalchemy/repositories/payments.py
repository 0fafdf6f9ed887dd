"""SQL repositories of the payments context: payments with their refunds, and stored webhook events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, Row, and_, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_integrity_error
from adapters.sqlalchemy.tables.payments import payment_events, payment_refunds, payments
from application.payments.ports import StoredPaymentEvent
from application.ports.payments import PaymentEvent
from application.shared.pagination import Page, PageRequest
from domain.payments.model import Payment, PaymentStatus, Refund, RefundStatus
from domain.shared.errors import Conflict, NotFound

__all__ = ["SqlAlchemyPaymentEventStore", "SqlAlchemyPaymentRepository"]

_P = payments.c
_R = payment_refunds.c
_E = payment_events.c
_FIELDS = ("case_id", "policy_id", "customer_id", "amount", "currency", "provider", "channel", "message_id",
           "provider_link_id", "link_url", "provider_payment_id", "paid_amount", "refunded_amount", "method",
           "paid_at", "expires_at", "flags", "idempotency_key", "request_hash", "created_by")
_UNIQUE = {"uq_payments_created_by_idempotency_key": "idempotencyKey",
           "uq_payments_provider_payment": "providerPaymentId", "uq_payments_provider_link": "providerLinkId"}


def _values(payment: Payment) -> dict[str, Any]:
    values = {name: getattr(payment, name) for name in _FIELDS}
    values["status"] = str(payment.status)
    return values


def _payment(row: Row[Any], refunds: list[Refund]) -> Payment:
    data = row._mapping
    return Payment(**{name: data[name] for name in _FIELDS if name != "flags"}, flags=list(data["flags"]),
                   status=PaymentStatus(data["status"]), refunds=refunds, id=data["id"],
                   created_at=data["created_at"], updated_at=data["updated_at"])


def _refund(row: Row[Any]) -> Refund:
    return Refund(amount=row.amount, status=RefundStatus(row.status), provider_refund_id=row.provider_refund_id,
                  reason=row.reason, created_by=row.created_by, id=row.id, created_at=row.created_at)


async def _guarded(session: AsyncSession, statement: Any) -> Row[Any]:
    """Run `statement` in a savepoint, turning a unique-key violation into a Conflict naming the field."""
    try:
        async with session.begin_nested():
            return (await session.execute(statement)).one()
    except IntegrityError as exc:
        orig = getattr(exc.orig, "__cause__", None) or exc.orig
        field = _UNIQUE.get(getattr(orig, "constraint_name", None) or "")
        if field is not None:
            raise Conflict(f"{field} is already used by another payment", field=field) from None
        raise translate_integrity_error(exc) from None


class SqlAlchemyPaymentRepository:
    def __init__(self, session: AsyncSession, now: Callable[[], datetime]) -> None:
        self._session = session
        self._now = now

    async def add(self, payment: Payment) -> Payment:
        now = self._now()
        row = await _guarded(self._session, insert(payments).values(
            **_values(payment), created_at=now, updated_at=now).returning(payments))
        return _payment(row, [])

    async def _one(self, condition: ColumnElement[bool], *, lock: bool) -> Payment | None:
        stmt = select(payments).where(condition).order_by(_P.id).limit(1)
        row = (await self._session.execute(stmt.with_for_update() if lock else stmt)).one_or_none()
        if row is None:
            return None
        refunds = (await self._session.execute(
            select(payment_refunds).where(_R.payment_id == row.id).order_by(_R.id))).all()
        return _payment(row, [_refund(r) for r in refunds])

    async def get(self, payment_id: int, *, lock: bool = False) -> Payment | None:
        return await self._one(_P.id == payment_id, lock=lock)

    async def find_for_event(self, provider: str, *, payment_id: int | None, provider_payment_id: str | None,
                             provider_link_id: str | None) -> Payment | None:
        mine = _P.provider == provider
        for condition in (
                _P.provider_payment_id == provider_payment_id if provider_payment_id else None,
                _P.id == payment_id if payment_id is not None and payment_id <= 2**31 - 1 else None,
                _P.provider_link_id == provider_link_id if provider_link_id else None):
            if condition is not None and (found := await self._one(and_(mine, condition), lock=True)) is not None:
                return found
        return None

    async def find_by_idempotency_key(self, created_by: int | None, key: str) -> Payment | None:
        by = _P.created_by.is_(None) if created_by is None else _P.created_by == created_by
        return await self._one(and_(by, _P.idempotency_key == key), lock=False)

    async def save(self, payment: Payment) -> None:
        if payment.id is None:
            raise NotFound("payment", None)
        row = await _guarded(self._session, update(payments).where(_P.id == payment.id).values(
            **_values(payment), updated_at=self._now()).returning(_P.updated_at))
        payment.updated_at = row.updated_at
        for refund in payment.refunds:
            values = {"amount": refund.amount, "status": str(refund.status),
                      "provider_refund_id": refund.provider_refund_id, "reason": refund.reason,
                      "created_by": refund.created_by, "updated_at": self._now()}
            if refund.id is None:
                added = (await self._session.execute(insert(payment_refunds).values(
                    payment_id=payment.id, created_at=self._now(), **values)
                    .returning(_R.id, _R.created_at))).one()
                refund.id, refund.created_at = added.id, added.created_at
            else:
                await self._session.execute(update(payment_refunds).where(_R.id == refund.id).values(**values))

    async def list(self, case_id: int | None, page: PageRequest) -> Page[Payment]:
        where = _P.case_id == case_id if case_id is not None else _P.id.is_not(None)
        total = int((await self._session.execute(select(func.count()).select_from(payments).where(where)))
                    .scalar_one())
        ids = (await self._session.execute(select(_P.id).where(where).order_by(_P.id.desc())
                                           .offset(page.offset).limit(page.limit))).scalars().all()
        items = [found for payment_id in ids if (found := await self.get(payment_id)) is not None]
        return Page(items=items, page=page.page, limit=page.limit, total=total)


def _stored(row: Row[Any]) -> StoredPaymentEvent:
    return StoredPaymentEvent(id=row.id, event=msgspec.convert(row.event, PaymentEvent, strict=False),
                              received_at=row.received_at, applied_at=row.applied_at, outcome=row.outcome)


class SqlAlchemyPaymentEventStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, event: PaymentEvent, received_at: datetime) -> int | None:
        stmt = (pg_insert(payment_events).values(
            provider=event.provider, event_id=event.event_id, kind=event.kind, type=event.type,
            event=msgspec.to_builtins(event), received_at=received_at)
            .on_conflict_do_nothing(index_elements=[_E.provider, _E.event_id]).returning(_E.id))
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else int(row.id)

    async def get_for_update(self, event_row_id: int) -> StoredPaymentEvent | None:
        row = (await self._session.execute(
            select(payment_events).where(_E.id == event_row_id).with_for_update())).one_or_none()
        return None if row is None else _stored(row)

    async def unmatched_for(self, provider: str, provider_payment_id: str) -> list[StoredPaymentEvent]:
        rows = (await self._session.execute(
            select(payment_events).where(
                _E.provider == provider, _E.applied_at.is_(None),
                _E.event["provider_payment_id"].astext == provider_payment_id)
            .order_by(_E.id).with_for_update(skip_locked=True))).all()
        return [_stored(row) for row in rows]

    async def mark(self, event_row_id: int, *, applied_at: datetime | None, outcome: str) -> None:
        await self._session.execute(update(payment_events).where(_E.id == event_row_id)
                                    .values(applied_at=applied_at, outcome=outcome))
