"""The renewal's jobs: a verified payment renews the policy; a lapse notifies the owner and the customer."""

from __future__ import annotations

from application.ports.uow import Job
from application.shared.events import EventRouter
from domain.policies.events import CaseLapsed
from domain.shared.events import DomainEvent

__all__ = ["LAPSE_OVERDUE", "NOTIFY_LAPSE", "RENEWAL_PAID", "RENEW_FOR_PAYMENT", "subscribe"]

RENEWAL_PAID = "payments.renewal_paid"  # domain.payments.events.RenewalPaid, subscribed by name
RENEW_FOR_PAYMENT = "policies.renew_for_payment"
NOTIFY_LAPSE = "policies.notify_lapse"
LAPSE_OVERDUE = "policies.lapse_overdue"


def renew_job(event: DomainEvent) -> Job | None:
    payload = event.payload()
    return Job(name=RENEW_FOR_PAYMENT, key=f"renew-for-payment-{payload['payment_id']}", args={
        "case_id": int(payload["case_id"]), "payment_id": int(payload["payment_id"]),
        "amount": str(payload["amount"]), "currency": str(payload["currency"]),
        "method": payload.get("method"), "paid_at": str(payload["paid_at"])})


def lapse_notice_job(event: DomainEvent) -> Job | None:
    payload = event.payload()
    return Job(name=NOTIFY_LAPSE, key=f"notify-lapse-{payload['case_id']}",
               args={"case_id": int(payload["case_id"]), "owner_id": payload.get("owner_id")})


def subscribe(router: EventRouter) -> None:
    router.subscribe(RENEWAL_PAID, renew_job)
    router.subscribe(CaseLapsed.name, lapse_notice_job)
