"""Ports of the payments context: its unit of work (payments, webhook events) and the cases it collects for."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

import msgspec

from application.ports.payments import PaymentEvent
from application.ports.uow import UnitOfWork
from application.shared.pagination import Page, PageRequest
from application.shared.visibility import Visibility
from domain.payments.model import Payment

__all__ = [
    "PaymentEventStore", "PaymentRepository", "PaymentsUnitOfWork", "RenewableCase", "RenewableCases",
    "StoredPaymentEvent",
]


class RenewableCase(msgspec.Struct, frozen=True, kw_only=True):
    """The case a payment link is for, as the policies context answers it (a bridge the lead wires)."""

    case_id: int
    policy_id: int
    customer_id: int
    policy_number: str
    customer_name: str
    renewal_amount: Decimal
    currency: str
    renewal_date: date
    status: str
    payment_status: str
    closed: bool  # renewed, lapsed, lost or cancelled
    customer_email: str | None = None
    customer_phone: str | None = None  # E.164


class RenewableCases(Protocol):
    async def get(self, case_id: int, visibility: Visibility) -> RenewableCase:
        """The case if `visibility` reaches it; raises NotFound otherwise (a hidden case is a missing case)."""
        ...


class StoredPaymentEvent(msgspec.Struct, kw_only=True):
    """One verified webhook event as stored: applied once by the `payments.apply_event` job."""

    id: int
    event: PaymentEvent
    received_at: datetime
    applied_at: datetime | None = None
    outcome: str | None = None  # "unmatched" while no payment is known for it (applied_at stays empty)
    payment_id: int | None = None  # what it was applied to (kept in `outcome` in SQL: "pay-N: ...")


class PaymentEventStore(Protocol):
    async def add(self, event: PaymentEvent, received_at: datetime) -> int | None:
        """Store the event once per (provider, event id); its row id, or None when it was already stored."""
        ...

    async def get_for_update(self, event_row_id: int) -> StoredPaymentEvent | None:
        """The event, locked until the unit ends."""
        ...

    async def unmatched_for(self, provider: str, provider_payment_id: str) -> list[StoredPaymentEvent]:
        """Events of that provider payment still waiting for their payment, oldest first (locked; skips locked)."""
        ...

    async def mark(self, event_row_id: int, *, applied_at: datetime | None, outcome: str) -> None: ...


class PaymentRepository(Protocol):
    async def add(self, payment: Payment) -> Payment:
        """Insert; the payment comes back with its id. Raises Conflict(field "idempotencyKey") on a reused key."""
        ...

    async def get(self, payment_id: int, *, lock: bool = False) -> Payment | None:
        """The payment with its refunds; `lock` holds it until the unit ends."""
        ...

    async def find_for_event(self, provider: str, *, payment_id: int | None, provider_payment_id: str | None,
                             provider_link_id: str | None) -> Payment | None:
        """The payment an event speaks of (by provider payment id, then our reference, then the link), locked."""
        ...

    async def find_by_idempotency_key(self, created_by: int | None, key: str) -> Payment | None: ...

    async def save(self, payment: Payment) -> None:
        """Write the payment's fields and its refunds (new ones inserted, known ones updated)."""
        ...

    async def list(self, case_id: int | None, page: PageRequest) -> Page[Payment]:
        """Newest first."""
        ...


class PaymentsUnitOfWork(UnitOfWork, Protocol):
    payments: PaymentRepository
    payment_events: PaymentEventStore
