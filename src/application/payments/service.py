"""Use cases of payments staff start: a payment link for a case (made, then sent), reads, refunds.

A link is made in three steps so that nothing is half-written: the payment row first (its id is the reference the
provider carries, `pay-N`), then the provider's link, then the message through the CaseMessenger port; the payment
becomes `link_sent` with PaymentLinkSent only when both succeeded, and is `cancelled` when either refused.
`Idempotency-Key` makes the request safe to retry: the same key and body answer the first link again, another body
is a 422 (as messaging's sends).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import msgspec

from application.payments.config import PaymentsConfig
from application.payments.errors import (
    IdempotencyKeyReused,
    LinkNotSent,
    PaymentProviderRefused,
    PaymentProviderUnavailable,
)
from application.payments.ports import PaymentsUnitOfWork, RenewableCase, RenewableCases
from application.payments.views import (
    MessageRef,
    NewPaymentLink,
    PaymentId,
    PaymentLinkCreated,
    PaymentView,
    RefundRequest,
)
from application.ports.case_messages import CaseMessage, CaseMessenger
from application.ports.payments import PaymentGateway, PaymentLinkRequest, PaymentRejected, PaymentUnavailable
from application.shared.pagination import Page, PageRequest
from application.shared.visibility import Visibility
from domain.payments.events import PaymentLinkSent
from domain.payments.model import Payment, PaymentStatus
from domain.shared.clock import Clock
from domain.shared.errors import Conflict, FieldError, NotFound, ValidationFailed

__all__ = ["PaymentService"]

MAX_IDEMPOTENCY_KEY = 255
MAX_AMOUNT = Decimal("9999999999.99")  # payments.amount is NUMERIC(12, 2)
MAX_REASON = 500


class PaymentService:
    def __init__(self, *, uow: Callable[[], PaymentsUnitOfWork], cases: RenewableCases, gateway: PaymentGateway,
                 messenger: CaseMessenger, clock: Clock, config: PaymentsConfig) -> None:
        self._uow = uow
        self._cases = cases
        self._gateway = gateway
        self._messenger = messenger
        self._clock = clock
        self._config = config

    # --- links -------------------------------------------------------------------------------------------------

    async def create_link(self, case_id: int, cmd: NewPaymentLink, visibility: Visibility, user_id: int | None,
                          idempotency_key: str | None = None) -> PaymentLinkCreated:
        """Make a link for the case's renewal amount (or `cmd.amount`) and send it on `cmd.channel`."""
        key = _idempotency_key(idempotency_key)
        request_hash = _request_hash(case_id, cmd)
        hours = self._check(cmd)
        if key is not None and (replay := await self._replay(user_id, key, request_hash)) is not None:
            return replay
        case = await self._cases.get(case_id, visibility)
        if case.closed or case.payment_status == "paid":
            raise Conflict(f"case {case_id} is {case.status} (payment {case.payment_status}): no link can be sent",
                           field="caseId")
        now = self._clock.now()
        payment = Payment(case_id=case.case_id, policy_id=case.policy_id, customer_id=case.customer_id,
                          amount=cmd.amount if cmd.amount is not None else case.renewal_amount,
                          currency=case.currency, provider=self._config.provider, idempotency_key=key,
                          request_hash=request_hash, created_by=user_id, expires_at=now + timedelta(hours=hours))
        _check_amount(payment.amount)
        async with self._uow() as uow:
            try:
                payment = await uow.payments.add(payment)
                await uow.commit()
            except Conflict as exc:
                if key is None or exc.field != "idempotencyKey":
                    raise
                replay = await self._replay(user_id, key, request_hash)
                if replay is None:
                    raise
                return replay
        assert payment.id is not None
        return await self._make_and_send(payment.id, case, cmd.channel, user_id)

    async def _make_and_send(self, payment_id: int, case: RenewableCase, channel: str,
                             user_id: int | None) -> PaymentLinkCreated:
        async with self._uow() as uow:
            payment = await uow.payments.get(payment_id, lock=True)
            assert payment is not None
            request = PaymentLinkRequest(
                reference=PaymentId(payment_id).public(), amount=payment.amount, currency=payment.currency,
                description=f"Renewal of policy {case.policy_number}", customer_name=case.customer_name,
                customer_email=case.customer_email, customer_phone=case.customer_phone, case_id=case.case_id,
                callback_url=self._config.callback_url, expire_at=payment.expires_at)
            try:
                link = await self._gateway.create_link(request)
            except (PaymentRejected, PaymentUnavailable) as exc:
                payment.cancel()
                await uow.payments.save(payment)
                await uow.commit()
                if isinstance(exc, PaymentRejected):
                    raise PaymentProviderRefused.because(
                        "amount", f"the payment provider refused the link: {exc}") from exc
                raise PaymentProviderUnavailable(f"the payment provider is unavailable: {exc}") from exc
            payment.provider = link.provider
            payment.link_created(link.provider_link_id, link.url, payment.expires_at)
            queued = await self._messenger.queue(CaseMessage(
                channel=channel, customer_id=case.customer_id, case_id=case.case_id,  # type: ignore[arg-type]
                template="payment_link", purpose="payment_link", idempotency_key=f"payment-link-{payment_id}",
                values={"customer_name": case.customer_name, "amount": str(payment.amount),
                        "policy_number": case.policy_number, "due_date": case.renewal_date.isoformat(),
                        "payment_link": link.url}))
            if queued.status != "queued":
                payment.cancel()
                await uow.payments.save(payment)
                await uow.commit()
                raise LinkNotSent(f"the link was not sent by {channel}: {queued.reason or queued.code}",
                                  field="channel")
            payment.link_sent(channel, queued.message_id)
            payment.record(PaymentLinkSent(payment_id=payment_id, case_id=case.case_id, channel=channel,
                                           url=link.url, message_id=queued.message_id, actor_id=user_id,
                                           at=self._clock.now()))
            await uow.payments.save(payment)
            uow.track(payment)
            await uow.commit()
        return _created(payment)

    async def _replay(self, user_id: int | None, key: str, request_hash: str) -> PaymentLinkCreated | None:
        async with self._uow() as uow:
            first = await uow.payments.find_by_idempotency_key(user_id, key)
        if first is None:
            return None
        assert first.id is not None
        if first.request_hash != request_hash:
            raise IdempotencyKeyReused.of(key, PaymentId(first.id).public())
        if first.status is PaymentStatus.CREATED:
            raise Conflict("the first request with this Idempotency-Key is still in progress; try again",
                           field="Idempotency-Key")
        return _created(first)

    def _check(self, cmd: NewPaymentLink) -> int:
        problems: list[FieldError] = []
        if cmd.amount is not None and (not cmd.amount.is_finite() or cmd.amount <= 0 or cmd.amount > MAX_AMOUNT
                                       or cmd.amount != cmd.amount.quantize(Decimal("0.01"))):
            problems.append(FieldError("amount", f"must be a positive amount with at most 2 decimals, up to "
                                                 f"{MAX_AMOUNT}"))
        hours = self._config.default_link_hours if cmd.expires_in_hours is None else cmd.expires_in_hours
        if not 1 <= hours <= self._config.max_link_hours:
            problems.append(FieldError("expiresInHours", f"must be between 1 and {self._config.max_link_hours}"))
        if problems:
            raise ValidationFailed(problems)
        return hours

    # --- reads -------------------------------------------------------------------------------------------------

    async def get(self, payment_id: int, visibility: Visibility) -> PaymentView:
        """The payment, if the caller may see its case."""
        async with self._uow() as uow:
            payment = await uow.payments.get(payment_id)
        if payment is None:
            raise NotFound("payment", PaymentId(payment_id).public())
        await self._visible(payment, visibility)
        return PaymentView.of(payment)

    async def list(self, case_id: int | None, page: PageRequest, visibility: Visibility) -> Page[PaymentView]:
        """Payments newest first, of one case (required below scope `all`) or of every case."""
        if case_id is None and visibility.reach != "all":
            raise ValidationFailed.on("caseId", "is required at your scope")
        if case_id is not None:
            await self._cases.get(case_id, visibility)
        async with self._uow() as uow:
            found = await uow.payments.list(case_id, page)
        return Page(items=[PaymentView.of(p) for p in found.items], page=found.page, limit=found.limit,
                    total=found.total)

    async def _visible(self, payment: Payment, visibility: Visibility) -> None:
        if visibility.reach == "all":
            return
        if payment.case_id is None:
            raise NotFound("payment", PaymentId(payment.id or 0).public())
        try:
            await self._cases.get(payment.case_id, visibility)
        except NotFound:
            raise NotFound("payment", PaymentId(payment.id or 0).public()) from None

    # --- refunds -----------------------------------------------------------------------------------------------

    async def refund(self, payment_id: int, cmd: RefundRequest, visibility: Visibility,
                     user_id: int | None) -> PaymentView:
        """Refund part or all of what was captured (never more than paid less refunded) through the provider."""
        reason = cmd.reason.strip()
        if not reason or len(reason) > MAX_REASON:
            raise ValidationFailed.on("reason", f"is required (at most {MAX_REASON} characters)")
        if cmd.amount is not None:
            _check_amount(cmd.amount)
        async with self._uow() as uow:  # the payment stays locked until the refund is recorded: no double refund
            payment = await uow.payments.get(payment_id, lock=True)
            if payment is None:
                raise NotFound("payment", PaymentId(payment_id).public())
            await self._visible(payment, visibility)
            amount = payment.check_refund(cmd.amount)
            if payment.provider != self._config.provider:
                raise Conflict(f"the payment was made through {payment.provider}, not {self._config.provider}: "
                               "refund it there", field="paymentId")
            assert payment.provider_payment_id is not None
            try:
                refund_id = await self._gateway.refund(
                    payment.provider_payment_id, amount, currency=payment.currency,
                    idempotency_key=f"refund-{payment_id}-{len(payment.refunds) + 1}-{amount}")
            except PaymentRejected as exc:
                raise PaymentProviderRefused.because(
                    "amount", f"the payment provider refused the refund: {exc}") from exc
            except PaymentUnavailable as exc:
                raise PaymentProviderUnavailable(f"the payment provider is unavailable: {exc}") from exc
            payment.refund_requested(amount, refund_id, reason, user_id, self._clock.now())
            await uow.payments.save(payment)
            uow.track(payment)
            await uow.commit()
            saved = await uow.payments.get(payment_id)
        assert saved is not None
        return PaymentView.of(saved)


def _created(payment: Payment) -> PaymentLinkCreated:
    assert payment.id is not None
    return PaymentLinkCreated(
        payment_id=PaymentId(payment.id), url=payment.link_url or "", provider=payment.provider,
        status=str(payment.status), message_id=MessageRef(payment.message_id) if payment.message_id else None,
        expires_at=payment.expires_at)


def _check_amount(amount: Decimal) -> None:
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed.on("amount", f"must be a positive amount with at most 2 decimals, up to {MAX_AMOUNT}")


def _idempotency_key(raw: str | None) -> str | None:
    key = (raw or "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed.on("Idempotency-Key", f"must be at most {MAX_IDEMPOTENCY_KEY} characters")
    return key or None


def _request_hash(case_id: int, cmd: NewPaymentLink) -> str:
    body = msgspec.json.encode(cmd, order="sorted")
    return hashlib.sha256(f"{case_id}\n".encode() + body).hexdigest()
