"""The Payment aggregate: one hosted link for a case's renewal amount, and what the provider's webhooks say of it.

Rules (`Payment.apply`), chosen so that any order and any repetition of a payment's webhook facts leave the same
state behind:
- A "paid" fact is a capture (provider payment id, amount, currency). A capture of exactly the amount and currency
  asked for is *exact*; a smaller one in the right currency *partial*; anything else (more, or another currency) a
  *mismatch*. The payment keeps one chosen capture in its own currency: exact before partial before mismatch, then
  the earliest (time, provider payment id); a capture in another currency is only flagged. Every capture that is
  not exact, and every exact capture that is not the chosen one (the customer paid twice), is flagged once per
  (code, provider payment id): partial_payment, amount_mismatch, duplicate_payment.
- The status is derived: an exact chosen capture is `paid`, a partial one `partially_paid`; with refunds it becomes
  `partially_refunded` or `refunded`. Otherwise the furthest of created < link_sent < failed < expired < cancelled
  holds: "failed" and "expired" never downgrade a paid payment, and repeat nothing.
- The first exact capture records RenewalPaid (once: the payment is settled from then on, whatever follows).
- Refunds: a provider refund id is applied once; a webhook refund without one confirms our own requested refund of
  the same amount, else adds a refund (repeated deliveries of one event are dropped before `apply`, by event id).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.payments.events import PaymentFlagged, PaymentRefunded, RenewalPaid
from domain.payments.values import (
    CAPTURED_STATUSES,
    PROGRESS,
    Capture,
    PaymentFact,
    PaymentStatus,
    Refund,
    RefundStatus,
    classify_capture,
)
from domain.shared.errors import Conflict, ValidationFailed
from domain.shared.events import EventRecorder

__all__ = [
    "CAPTURED_STATUSES", "Capture", "Payment", "PaymentFact", "PaymentStatus", "Refund", "RefundStatus",
    "classify_capture",
]


_RANK = {"exact": 0, "partial": 1, "mismatch": 2}


@dataclass(eq=False)
class Payment(EventRecorder):
    case_id: int | None
    policy_id: int | None
    customer_id: int | None
    amount: Decimal
    currency: str
    provider: str
    status: PaymentStatus = PaymentStatus.CREATED
    channel: str | None = None
    message_id: int | None = None
    provider_link_id: str | None = None
    link_url: str | None = None
    provider_payment_id: str | None = None
    paid_amount: Decimal | None = None
    refunded_amount: Decimal = Decimal(0)
    method: str | None = None
    paid_at: datetime | None = None
    expires_at: datetime | None = None
    flags: list[dict[str, Any]] = field(default_factory=list)
    idempotency_key: str | None = None
    request_hash: str | None = None
    created_by: int | None = None
    refunds: list[Refund] = field(default_factory=list)
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        EventRecorder.__init__(self)
        self.currency = self.currency.upper()

    # --- the link --------------------------------------------------------------------------------------------

    def link_created(self, provider_link_id: str, url: str, expires_at: datetime | None) -> None:
        self.provider_link_id, self.link_url, self.expires_at = provider_link_id, url, expires_at

    def link_sent(self, channel: str, message_id: int | None) -> None:
        self.channel, self.message_id = channel, message_id
        self._progress(PaymentStatus.LINK_SENT)

    def cancel(self) -> None:
        self._progress(PaymentStatus.CANCELLED)

    # --- webhook facts -----------------------------------------------------------------------------------------

    @property
    def settled(self) -> bool:
        """An exact capture was accepted (whatever refunds followed)."""
        return self.paid_amount is not None and self._chosen_kind() == "exact"

    def apply(self, fact: PaymentFact) -> str:
        """Apply one webhook fact; return what it changed, in words (the event's recorded outcome)."""
        if fact.kind == "paid":
            return self._capture(fact)
        if fact.kind == "refunded":
            return self._refunded(fact)
        if fact.kind in ("failed", "expired"):
            before = self.status
            self._progress(PaymentStatus.FAILED if fact.kind == "failed" else PaymentStatus.EXPIRED)
            return f"{before} -> {self.status}" if self.status != before else f"ignored: {fact.kind} after {before}"
        return f"ignored: {fact.kind}"

    def _capture(self, fact: PaymentFact) -> str:
        if fact.provider_payment_id is None or fact.amount is None or fact.currency is None:
            return "ignored: a paid event without payment id, amount or currency"
        new = Capture(fact.provider_payment_id, fact.amount, fact.currency.upper(), fact.method, fact.at)
        kind = classify_capture(self.amount, self.currency, new.amount, new.currency)
        current = self._chosen()
        if current is not None and current.provider_payment_id == new.provider_payment_id:
            return "ignored: capture already applied"
        was_settled = self.settled
        if new.currency == self.currency and (current is None or self._key(new) < self._key(current)):
            # another currency is never chosen (nor refundable here): it is only flagged, for a person
            self.provider_payment_id, self.paid_amount = new.provider_payment_id, new.amount
            self.method, self.paid_at = new.method, new.at
            self._derive()
            if current is not None:
                self._flag_capture(current)
        self._flag_capture(new)
        if self.settled and not was_settled:
            self._record_paid()
            return f"paid {new.amount} {new.currency}"
        return f"capture {new.provider_payment_id}: {kind}"

    def _refunded(self, fact: PaymentFact) -> str:
        if fact.amount is None or fact.amount <= 0:
            return "ignored: a refund without an amount"
        if fact.provider_refund_id is not None:
            known = next((r for r in self.refunds if r.provider_refund_id == fact.provider_refund_id), None)
            if known is not None:
                if known.status is RefundStatus.PROCESSED:
                    return "ignored: refund already applied"
                known.status = RefundStatus.PROCESSED
                return f"refund {known.provider_refund_id} confirmed"
        else:
            requested = next((r for r in self.refunds
                              if r.status is RefundStatus.REQUESTED and r.amount == fact.amount), None)
            if requested is not None:
                requested.status = RefundStatus.PROCESSED
                return f"refund {requested.provider_refund_id} confirmed"
        self.refunds.append(Refund(amount=fact.amount, status=RefundStatus.PROCESSED,
                                   provider_refund_id=fact.provider_refund_id, reason="refunded at the provider"))
        self._refund_applied(fact.amount, fact.at)
        return f"refunded {fact.amount}"

    # --- refunds we ask for -----------------------------------------------------------------------------------

    def refundable(self) -> Decimal:
        """What may still be refunded: the captured amount less what was refunded."""
        if self.paid_amount is None or self.provider_payment_id is None:
            return Decimal(0)
        return max(self.paid_amount - self.refunded_amount, Decimal(0))

    def check_refund(self, amount: Decimal | None) -> Decimal:
        """The amount to refund (all that is refundable when None); raises Conflict or ValidationFailed."""
        left = self.refundable()
        if left <= 0:
            raise Conflict(f"payment {self.id} has nothing to refund (status {self.status})", field="amount")
        wanted = left if amount is None else amount
        if not wanted.is_finite() or wanted <= 0:
            raise ValidationFailed.on("amount", "must be a positive amount")
        if wanted > left:
            raise ValidationFailed.on("amount", f"must be at most {left} (paid {self.paid_amount}, "
                                                f"refunded {self.refunded_amount})")
        return wanted

    def refund_requested(self, amount: Decimal, provider_refund_id: str, reason: str | None, user_id: int | None,
                         at: datetime) -> Refund:
        """Record a refund the provider accepted; a refund its webhook already brought is adopted, not added."""
        for refund in self.refunds:
            adopt = refund.provider_refund_id == provider_refund_id or (
                refund.provider_refund_id is None and refund.created_by is None and refund.amount == amount)
            if adopt:
                refund.provider_refund_id, refund.reason, refund.created_by = provider_refund_id, reason, user_id
                return refund
        refund = Refund(amount=amount, status=RefundStatus.REQUESTED, provider_refund_id=provider_refund_id,
                        reason=reason, created_by=user_id)
        self.refunds.append(refund)
        self._refund_applied(amount, at)
        return refund

    # --- internals -------------------------------------------------------------------------------------------

    def _refund_applied(self, amount: Decimal, at: datetime) -> None:
        self.refunded_amount += amount
        self._derive()
        self.record(PaymentRefunded(payment_id=self._id(), case_id=self.case_id, amount=str(amount),
                                    currency=self.currency, at=at))

    def _chosen(self) -> Capture | None:
        if self.provider_payment_id is None or self.paid_amount is None:
            return None
        assert self.paid_at is not None, "a capture has a time"
        return Capture(self.provider_payment_id, self.paid_amount, self.currency, self.method, self.paid_at)

    def _chosen_kind(self) -> str | None:
        chosen = self._chosen()
        if chosen is None:
            return None
        return classify_capture(self.amount, self.currency, chosen.amount, chosen.currency)

    def _key(self, capture: Capture) -> tuple[int, datetime, str]:
        kind = classify_capture(self.amount, self.currency, capture.amount, capture.currency)
        return _RANK[kind], capture.at, capture.provider_payment_id

    def _flag_capture(self, capture: Capture) -> None:
        kind = classify_capture(self.amount, self.currency, capture.amount, capture.currency)
        chosen = self._chosen()
        if kind == "exact":
            if chosen is None or chosen.provider_payment_id == capture.provider_payment_id:
                return
            code, message = "duplicate_payment", "the renewal was paid more than once"
        elif kind == "partial":
            code, message = "partial_payment", f"paid {capture.amount} of {self.amount} {self.currency}"
        else:
            code, message = "amount_mismatch", (f"paid {capture.amount} {capture.currency}, expected "
                                                f"{self.amount} {self.currency}")
        self._flag(code, message, capture)

    def _flag(self, code: str, message: str, capture: Capture) -> None:
        if any(f["code"] == code and f.get("providerPaymentId") == capture.provider_payment_id for f in self.flags):
            return
        self.flags.append({"code": code, "message": message, "expected": str(self.amount),
                           "received": str(capture.amount), "currency": capture.currency,
                           "providerPaymentId": capture.provider_payment_id, "at": capture.at.isoformat()})
        self.flags.sort(key=lambda f: (f["code"], f.get("providerPaymentId") or ""))
        if self.case_id is not None:
            self.record(PaymentFlagged(payment_id=self._id(), case_id=self.case_id, code=code, message=message,
                                       expected=str(self.amount), received=str(capture.amount),
                                       currency=capture.currency, at=capture.at))

    def _record_paid(self) -> None:
        if self.case_id is None or self.policy_id is None or self.customer_id is None:
            return
        assert self.paid_amount is not None and self.paid_at is not None
        self.record(RenewalPaid(payment_id=self._id(), case_id=self.case_id, policy_id=self.policy_id,
                                customer_id=self.customer_id, amount=str(self.paid_amount), currency=self.currency,
                                method=self.method, provider=self.provider, paid_at=self.paid_at))

    def _progress(self, status: PaymentStatus) -> None:
        current = self._progress_status()
        if PROGRESS.index(status) > PROGRESS.index(current):
            self.status = status
        self._derive()

    def _progress_status(self) -> PaymentStatus:
        return self.status if self.status in PROGRESS else PaymentStatus.LINK_SENT

    def _derive(self) -> None:
        kind = self._chosen_kind()
        if kind not in ("exact", "partial"):
            self.status = self._progress_status()
            return
        assert self.paid_amount is not None
        if self.refunded_amount <= 0:
            self.status = PaymentStatus.PAID if kind == "exact" else PaymentStatus.PARTIALLY_PAID
        else:
            full = self.refunded_amount >= self.paid_amount
            self.status = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED

    def _id(self) -> int:
        if self.id is None:
            raise ValueError("the payment is not stored yet")
        return self.id
