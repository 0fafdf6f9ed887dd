"""The jobs the payments context runs in answer to events (its own and other contexts', subscribed by name)."""

from __future__ import annotations

from application.payments.jobs import send_receipt_job
from application.ports.uow import Job
from application.shared.events import EventRouter
from domain.payments.events import RenewalPaid
from domain.shared.events import DomainEvent

__all__ = ["receipt_job", "subscribe"]


def receipt_job(event: DomainEvent) -> Job | None:
    """RenewalPaid -> `payments.send_receipt` (the receipt goes out once per payment)."""
    return send_receipt_job(event.payment_id) if isinstance(event, RenewalPaid) else None


def subscribe(router: EventRouter) -> None:
    """Subscribe this context's jobs to the events they answer."""
    router.subscribe(RenewalPaid.name, receipt_job)
