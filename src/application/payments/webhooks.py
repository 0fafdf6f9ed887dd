"""Webhooks of the payment providers: accepted once, applied once by a job, and the receipt sent once.

`accept` verifies the delivery with the provider's parser (InvalidSignature and MalformedWebhook propagate, and
nothing is stored), stores each event once per (provider, event id) and leaves a `payments.apply_event` job in the
same transaction. `apply_event` locks the stored event, finds its payment (by provider payment id, our reference
`pay-N`, then the provider's link id; locked) and applies it through the aggregate's rules. An event that names no
known payment yet (Razorpay's `payment.captured` or `refund.processed` may come before `payment_link.paid`) stays
"unmatched" and is applied when a later event teaches the payment that provider payment id. RenewalPaid leaves a
`payments.send_receipt` job: the receipt goes through the CaseMessenger once (its idempotency key).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from application.payments.config import PaymentsConfig
from application.payments.jobs import apply_event_job
from application.payments.ports import PaymentsUnitOfWork, RenewableCases, StoredPaymentEvent
from application.payments.views import PaymentId, WebhookReceipt
from application.ports.case_messages import CaseMessage, CaseMessenger, QueuedCaseMessage
from application.ports.payments import PaymentEvent, PaymentWebhooks
from application.shared.visibility import EVERYTHING
from domain.payments.model import Payment, PaymentFact
from domain.shared.clock import Clock
from domain.shared.errors import NotFound
from domain.shared.ids import parse_public_id

__all__ = ["UNMATCHED", "PaymentWebhookService", "UnknownProvider", "fact_of"]

UNMATCHED = "unmatched"


class UnknownProvider(NotFound):
    """No webhook parser is configured for that provider name."""

    def __init__(self, provider: str) -> None:
        super().__init__("payment provider", provider)


def fact_of(event: PaymentEvent) -> PaymentFact:
    return PaymentFact(event_id=event.event_id, kind=event.kind, at=event.at,
                       provider_payment_id=event.provider_payment_id, amount=event.amount, currency=event.currency,
                       method=event.method, provider_refund_id=event.provider_refund_id)


class PaymentWebhookService:
    def __init__(self, *, uow: Callable[[], PaymentsUnitOfWork], parsers: Mapping[str, PaymentWebhooks],
                 cases: RenewableCases, messenger: CaseMessenger, clock: Clock, config: PaymentsConfig) -> None:
        self._uow = uow
        self._parsers = parsers
        self._cases = cases
        self._messenger = messenger
        self._clock = clock
        self._config = config

    def knows(self, provider: str) -> bool:
        return provider in self._parsers

    async def accept(self, provider: str, headers: Mapping[str, str], raw_body: bytes) -> WebhookReceipt:
        """Verify and store a delivery; raises UnknownProvider, InvalidSignature or MalformedWebhook."""
        parser = self._parsers.get(provider)
        if parser is None:
            raise UnknownProvider(provider)
        now = self._clock.now()
        events = parser.parse(headers, raw_body, now)
        recorded = 0
        async with self._uow() as uow:
            for event in events:
                row_id = await uow.payment_events.add(event, now)
                if row_id is None:
                    continue
                recorded += 1
                if event.kind == "other":
                    await uow.payment_events.mark(row_id, applied_at=now, outcome=f"ignored: {event.type}")
                else:
                    uow.outbox.add(apply_event_job(row_id))
            await uow.commit()
        return WebhookReceipt(recorded=recorded)

    async def apply_event(self, event_row_id: int) -> str:
        """Apply one stored event (a second run changes nothing); returns its outcome."""
        async with self._uow() as uow:
            stored = await uow.payment_events.get_for_update(event_row_id)
            if stored is None:
                return "missing"
            if stored.applied_at is not None:
                return f"already applied: {stored.outcome}"
            outcome = await self._apply(uow, stored)
            await uow.commit()
        return outcome

    async def _apply(self, uow: PaymentsUnitOfWork, stored: StoredPaymentEvent) -> str:
        event = stored.event
        reference = parse_public_id(event.reference, "pay") if event.reference else None
        payment = await uow.payments.find_for_event(
            event.provider, payment_id=reference, provider_payment_id=event.provider_payment_id,
            provider_link_id=event.provider_link_id)
        now = self._clock.now()
        if payment is None:
            await uow.payment_events.mark(stored.id, applied_at=None, outcome=UNMATCHED)
            return UNMATCHED
        known = payment.provider_payment_id
        outcome = self._apply_to(payment, event)
        await uow.payment_events.mark(stored.id, applied_at=now, outcome=outcome)
        if payment.provider_payment_id is not None and payment.provider_payment_id != known:
            for waiting in await uow.payment_events.unmatched_for(event.provider, payment.provider_payment_id):
                if waiting.id != stored.id:
                    await uow.payment_events.mark(waiting.id, applied_at=now,
                                                  outcome=self._apply_to(payment, waiting.event))
        await uow.payments.save(payment)
        uow.track(payment)
        return outcome

    @staticmethod
    def _apply_to(payment: Payment, event: PaymentEvent) -> str:
        assert payment.id is not None
        return f"{PaymentId(payment.id).public()}: {payment.apply(fact_of(event))}"

    async def send_receipt(self, payment_id: int) -> QueuedCaseMessage | None:
        """Queue the receipt of a settled payment (transactional, once per payment); None when there is none."""
        async with self._uow() as uow:
            payment = await uow.payments.get(payment_id)
        if payment is None or not payment.settled or payment.case_id is None or payment.customer_id is None:
            return None
        assert payment.paid_at is not None and payment.paid_amount is not None
        case = await self._cases.get(payment.case_id, EVERYTHING)
        channel = payment.channel or self._config.receipt_channel
        return await self._messenger.queue(CaseMessage(
            channel=channel, customer_id=payment.customer_id, case_id=payment.case_id,  # type: ignore[arg-type]
            template="payment_received", purpose="receipt", transactional=True,
            idempotency_key=f"payment-receipt-{payment_id}",
            values={"customer_name": case.customer_name, "amount": f"{payment.paid_amount} {payment.currency}",
                    "policy_number": case.policy_number, "payment_date": payment.paid_at.date().isoformat(),
                    "receipt_number": receipt_number(payment)}))


def receipt_number(payment: Payment) -> str:
    """`RCPT-<yyyymmdd>-<payment id>`: unique, and readable over the phone."""
    assert payment.id is not None and payment.paid_at is not None
    return f"RCPT-{payment.paid_at:%Y%m%d}-{payment.id:06d}"
