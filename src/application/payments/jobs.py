"""Names of the payments context's jobs (arq task names) and the job each use case leaves in the outbox."""

from __future__ import annotations

from application.ports.uow import Job

__all__ = ["APPLY_EVENT", "SEND_RECEIPT", "apply_event_job", "send_receipt_job"]

APPLY_EVENT = "payments.apply_event"
SEND_RECEIPT = "payments.send_receipt"


def apply_event_job(event_row_id: int) -> Job:
    return Job(name=APPLY_EVENT, args={"event_row_id": event_row_id}, key=f"payment-event-{event_row_id}")


def send_receipt_job(payment_id: int) -> Job:
    return Job(name=SEND_RECEIPT, args={"payment_id": payment_id}, key=f"payment-receipt-{payment_id}")
