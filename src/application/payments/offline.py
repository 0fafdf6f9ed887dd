"""Payments taken at the desk (cash, cheque, bank transfer, a card terminal): recorded by a person, then applied
exactly like a provider's "paid" event, so the renewal, the receipt, flags and the dashboard follow the same way.

The payment's provider is `offline` and its provider payment id is `offline:<method>:<reference>`, unique: the same
cheque or transfer number recorded twice is a 409, not a second payment. Refunds of offline payments happen
outside the system (the refund endpoint answers 409 for them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec

from application.payments.ports import PaymentsUnitOfWork, RenewableCases
from application.payments.views import PaymentView
from application.shared.visibility import Visibility
from domain.payments.model import Payment, PaymentFact
from domain.shared.clock import Clock
from domain.shared.errors import Conflict, FieldError, ValidationFailed

__all__ = ["OFFLINE", "OfflinePayment", "OfflinePaymentService"]

OFFLINE = "offline"
MAX_AMOUNT = Decimal("99999999.99")
MAX_REFERENCE = 100


class OfflinePayment(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """POST /api/cases/{id}/payments/offline: what was received, how, its reference (cheque, transfer, receipt
    number) and when (now by default; never in the future)."""

    amount: Decimal
    method: Literal["cash", "cheque", "bank_transfer", "card_terminal", "upi"]
    reference: str
    received_at: datetime | None = None


class OfflinePaymentService:
    def __init__(self, *, uow: Callable[[], PaymentsUnitOfWork], cases: RenewableCases, clock: Clock) -> None:
        self._uow = uow
        self._cases = cases
        self._clock = clock

    async def record(self, case_id: int, cmd: OfflinePayment, visibility: Visibility,
                     user_id: int | None) -> PaymentView:
        """Record money received for the case's renewal; a full payment renews it, less is flagged partial."""
        now = self._clock.now()
        reference = cmd.reference.strip()
        received_at = cmd.received_at or now
        problems = []
        if not cmd.amount.is_finite() or cmd.amount <= 0 or cmd.amount > MAX_AMOUNT \
                or cmd.amount != cmd.amount.quantize(Decimal("0.01")):
            problems.append(FieldError("amount", f"must be a positive amount with at most 2 decimals, up to "
                                                 f"{MAX_AMOUNT}"))
        if not reference or len(reference) > MAX_REFERENCE:
            problems.append(FieldError("reference", f"is required (at most {MAX_REFERENCE} characters)"))
        if received_at.tzinfo is None:
            problems.append(FieldError("receivedAt", "must include a time zone offset"))
        elif received_at > now:
            problems.append(FieldError("receivedAt", "must not be in the future"))
        if problems:
            raise ValidationFailed(problems)
        case = await self._cases.get(case_id, visibility)
        if case.closed or case.payment_status == "paid":
            raise Conflict(f"case {case_id} is {case.status} (payment {case.payment_status}): nothing to pay",
                           field="caseId")
        provider_payment_id = f"{OFFLINE}:{cmd.method}:{reference}"
        async with self._uow() as uow:
            known = await uow.payments.find_for_event(OFFLINE, payment_id=None, provider_payment_id=provider_payment_id,
                                                      provider_link_id=None)
            if known is not None:
                raise Conflict(f"{cmd.method} {reference} is already recorded as pay-{known.id}", field="reference")
            payment = await uow.payments.add(Payment(
                case_id=case.case_id, policy_id=case.policy_id, customer_id=case.customer_id,
                amount=case.renewal_amount, currency=case.currency, provider=OFFLINE, created_by=user_id))
            assert payment.id is not None
            payment.apply(PaymentFact(event_id=f"offline-{payment.id}", kind="paid", at=received_at,
                                      provider_payment_id=provider_payment_id, amount=cmd.amount,
                                      currency=case.currency, method=cmd.method))
            await uow.payments.save(payment)
            uow.track(payment)
            await uow.commit()
            saved = await uow.payments.get(payment.id)
        assert saved is not None
        return PaymentView.of(saved)
