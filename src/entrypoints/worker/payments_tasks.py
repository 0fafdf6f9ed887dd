"""arq tasks of the payments area; the worker registers `FUNCTIONS` and `CRON_JOBS`.

`payments.apply_event` applies one stored webhook event (idempotent: the event row is locked and marked applied);
`payments.send_receipt` queues the receipt of a settled payment once. Database or provider trouble raises arq's
Retry with back-off; the tasks are safe to run again.
"""

from __future__ import annotations

from typing import Any

from arq import Retry, func
from sqlalchemy.exc import DBAPIError, OperationalError

from application.payments.jobs import APPLY_EVENT, SEND_RECEIPT
from application.payments.webhooks import PaymentWebhookService
from application.ports.payments import PaymentUnavailable

__all__ = ["CRON_JOBS", "FUNCTIONS", "apply_event", "send_receipt"]

_TRANSIENT = (OperationalError, DBAPIError, PaymentUnavailable, ConnectionError, TimeoutError)


def _webhooks(ctx: dict[str, Any]) -> PaymentWebhookService:
    service: PaymentWebhookService = ctx["payments"].webhooks()
    return service


def _retry(ctx: dict[str, Any]) -> Retry:
    return Retry(defer=min(300, 5 * 2 ** int(ctx.get("job_try", 1))))


async def apply_event(ctx: dict[str, Any], event_row_id: int) -> str:
    try:
        return await _webhooks(ctx).apply_event(event_row_id)
    except _TRANSIENT as exc:
        raise _retry(ctx) from exc


async def send_receipt(ctx: dict[str, Any], payment_id: int) -> str | None:
    try:
        queued = await _webhooks(ctx).send_receipt(payment_id)
    except _TRANSIENT as exc:
        raise _retry(ctx) from exc
    return None if queued is None else queued.status


FUNCTIONS: list[Any] = [func(apply_event, name=APPLY_EVENT, max_tries=10),
                        func(send_receipt, name=SEND_RECEIPT, max_tries=10)]
CRON_JOBS: list[Any] = []  # arq.cron(...) entries
