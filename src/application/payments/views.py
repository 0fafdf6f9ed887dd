"""Commands and views of the payments API (camelCase on the wire, public ids `pay-N`, `case-N`, `msg-N`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import msgspec

from domain.payments.model import Payment, Refund
from domain.shared.ids import CaseId, EntityId, UserId

__all__ = [
    "MessageRef", "NewPaymentLink", "PaymentId", "PaymentLinkCreated", "PaymentView", "RefundRequest", "RefundView",
    "WebhookReceipt",
]


class PaymentId(EntityId):
    prefix = "pay"


class MessageRef(EntityId):
    prefix = "msg"


class NewPaymentLink(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """POST /api/cases/{id}/payment-link: the channel to send it through; the case's renewal amount by default."""

    channel: Literal["email", "sms", "whatsapp"]
    amount: Decimal | None = None
    expires_in_hours: int | None = None


class RefundRequest(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """POST /api/payments/{id}/refund: all that is left when `amount` is absent."""

    reason: str
    amount: Decimal | None = None


class PaymentLinkCreated(msgspec.Struct, kw_only=True, rename="camel"):
    payment_id: PaymentId
    url: str
    provider: str
    status: str
    message_id: MessageRef | None
    expires_at: datetime | None


class RefundView(msgspec.Struct, kw_only=True, rename="camel"):
    id: int | None
    amount: Decimal
    status: str
    provider_refund_id: str | None
    reason: str | None
    created_by: UserId | None
    created_at: datetime | None

    @classmethod
    def of(cls, refund: Refund) -> RefundView:
        return cls(id=refund.id, amount=refund.amount, status=str(refund.status),
                   provider_refund_id=refund.provider_refund_id, reason=refund.reason,
                   created_by=UserId(refund.created_by) if refund.created_by is not None else None,
                   created_at=refund.created_at)


class PaymentView(msgspec.Struct, kw_only=True, rename="camel"):
    id: PaymentId
    case_id: CaseId | None
    amount: Decimal
    currency: str
    status: str
    provider: str
    channel: str | None
    message_id: MessageRef | None
    url: str | None
    provider_link_id: str | None
    provider_payment_id: str | None
    paid_amount: Decimal | None
    refunded_amount: Decimal
    method: str | None
    paid_at: datetime | None
    expires_at: datetime | None
    flags: list[dict[str, Any]]
    refunds: list[RefundView]
    created_by: UserId | None
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, payment: Payment) -> PaymentView:
        assert payment.id is not None
        return cls(
            id=PaymentId(payment.id), case_id=CaseId(payment.case_id) if payment.case_id is not None else None,
            amount=payment.amount, currency=payment.currency, status=str(payment.status), provider=payment.provider,
            channel=payment.channel,
            message_id=MessageRef(payment.message_id) if payment.message_id is not None else None,
            url=payment.link_url, provider_link_id=payment.provider_link_id,
            provider_payment_id=payment.provider_payment_id, paid_amount=payment.paid_amount,
            refunded_amount=payment.refunded_amount, method=payment.method, paid_at=payment.paid_at,
            expires_at=payment.expires_at, flags=list(payment.flags),
            refunds=[RefundView.of(r) for r in payment.refunds],
            created_by=UserId(payment.created_by) if payment.created_by is not None else None,
            created_at=payment.created_at, updated_at=payment.updated_at)


class WebhookReceipt(msgspec.Struct, kw_only=True):
    """`recorded` is the number of new events stored by this delivery (0 for a repeated delivery)."""

    recorded: int
