"""The payments context's in-memory unit of work and repositories (the SQL twins' behaviour, on MemoryStore).

Records: `tables.payments` holds Payment aggregates (with their refunds), `tables.payment_refunds` a RefundRow per
refund (for readers of refunds alone), `tables.payment_events` StoredPaymentEvent records.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import msgspec

from adapters.memory.store import MemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWorkBase
from application.payments.ports import StoredPaymentEvent
from application.ports.payments import PaymentEvent
from application.shared.events import EventRouter
from application.shared.pagination import Page, PageRequest
from domain.payments.model import Payment
from domain.shared.errors import Conflict

__all__ = ["InMemoryPaymentEventStore", "InMemoryPaymentRepository", "InMemoryPaymentsUnitOfWork", "RefundRow"]


@dataclass
class RefundRow:
    """A `payment_refunds` row."""

    id: int
    payment_id: int
    amount: Decimal
    status: str
    provider_refund_id: str | None
    reason: str | None
    created_by: int | None
    created_at: datetime


class InMemoryPaymentRepository:
    def __init__(self, store: MemoryStore, at: datetime) -> None:
        self._store = store
        self._at = at
        self.staged: dict[int, Payment] = {}

    def _all(self) -> dict[int, Payment]:
        return {**self._store.tables.payments, **self.staged}

    async def add(self, payment: Payment) -> Payment:
        if payment.idempotency_key is not None and any(
                p.idempotency_key == payment.idempotency_key and p.created_by == payment.created_by
                for p in self._all().values()):
            raise Conflict("the Idempotency-Key was already used", field="idempotencyKey")
        added = copy.deepcopy(payment)
        added.id = self._store.next_value("payments")
        added.created_at = added.updated_at = self._at
        self.staged[added.id] = copy.deepcopy(added)
        return added

    async def get(self, payment_id: int, *, lock: bool = False) -> Payment | None:
        found = self._all().get(payment_id)
        return copy.deepcopy(found) if found is not None else None

    async def find_for_event(self, provider: str, *, payment_id: int | None, provider_payment_id: str | None,
                             provider_link_id: str | None) -> Payment | None:
        mine = [p for p in self._all().values() if p.provider == provider]
        found = next((p for p in mine if provider_payment_id and p.provider_payment_id == provider_payment_id), None)
        found = found or next((p for p in mine if payment_id is not None and p.id == payment_id), None)
        found = found or next((p for p in mine if provider_link_id and p.provider_link_id == provider_link_id), None)
        return copy.deepcopy(found) if found is not None else None

    async def find_by_idempotency_key(self, created_by: int | None, key: str) -> Payment | None:
        found = next((p for p in self._all().values()
                      if p.idempotency_key == key and p.created_by == created_by), None)
        return copy.deepcopy(found) if found is not None else None

    async def save(self, payment: Payment) -> None:
        assert payment.id is not None
        if payment.provider_payment_id is not None and any(
                p.provider == payment.provider and p.provider_payment_id == payment.provider_payment_id
                and p.id != payment.id for p in self._all().values()):
            raise Conflict(f"provider payment {payment.provider_payment_id} belongs to another payment")
        for refund in payment.refunds:
            if refund.id is None:
                refund.id, refund.created_at = self._store.next_value("payment_refunds"), self._at
        payment.updated_at = self._at
        saved = copy.deepcopy(payment)
        saved.pull_events()
        self.staged[payment.id] = saved

    async def list(self, case_id: int | None, page: PageRequest) -> Page[Payment]:
        rows = sorted((p for p in self._all().values() if case_id is None or p.case_id == case_id),
                      key=lambda p: -(p.id or 0))
        chosen = rows[page.offset:page.offset + page.limit]
        return Page(items=[copy.deepcopy(p) for p in chosen], page=page.page, limit=page.limit, total=len(rows))


class InMemoryPaymentEventStore:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.staged: dict[int, StoredPaymentEvent] = {}

    def _all(self) -> dict[int, StoredPaymentEvent]:
        return {**self._store.tables.payment_events, **self.staged}

    async def add(self, event: PaymentEvent, received_at: datetime) -> int | None:
        if any(s.event.provider == event.provider and s.event.event_id == event.event_id
               for s in self._all().values()):
            return None
        row_id = self._store.next_value("payment_events")
        self.staged[row_id] = StoredPaymentEvent(id=row_id, event=event, received_at=received_at)
        return row_id

    async def get_for_update(self, event_row_id: int) -> StoredPaymentEvent | None:
        found = self._all().get(event_row_id)
        return msgspec.structs.replace(found) if found is not None else None

    async def unmatched_for(self, provider: str, provider_payment_id: str) -> list[StoredPaymentEvent]:
        return [msgspec.structs.replace(s) for _, s in sorted(self._all().items())
                if s.applied_at is None and s.event.provider == provider
                and s.event.provider_payment_id == provider_payment_id]

    async def mark(self, event_row_id: int, *, applied_at: datetime | None, outcome: str) -> None:
        found = self._all()[event_row_id]
        self.staged[event_row_id] = msgspec.structs.replace(found, applied_at=applied_at, outcome=outcome)


class InMemoryPaymentsUnitOfWork(InMemoryUnitOfWorkBase):
    """`InMemoryPaymentsUnitOfWork(store, router)`; timestamps from the store's clock, one per unit."""

    payments: InMemoryPaymentRepository
    payment_events: InMemoryPaymentEventStore

    def __init__(self, store: MemoryStore, router: EventRouter) -> None:
        super().__init__(store, router)

    def _open(self) -> None:
        self.payments = InMemoryPaymentRepository(self._store, self._store.now())
        self.payment_events = InMemoryPaymentEventStore(self._store)

    def _apply(self, now: datetime) -> None:
        tables = self._store.tables
        for payment_id, payment in self.payments.staged.items():
            tables.payments[payment_id] = copy.deepcopy(payment)
            for refund in payment.refunds:
                assert refund.id is not None and refund.created_at is not None
                tables.payment_refunds[refund.id] = RefundRow(
                    id=refund.id, payment_id=payment_id, amount=refund.amount, status=str(refund.status),
                    provider_refund_id=refund.provider_refund_id, reason=refund.reason,
                    created_by=refund.created_by, created_at=refund.created_at)
        tables.payment_events.update(self.payment_events.staged)

    def _clear_staged(self) -> None:
        self.payments.staged.clear()
        self.payment_events.staged.clear()
