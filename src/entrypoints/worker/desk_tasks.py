"""arq tasks and cron jobs of the desk area; the worker registers `FUNCTIONS` and `CRON_JOBS`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from arq import cron, func

from application.policies.desk_jobs import (
    FLAG_CASE,
    MARK_PAYMENT_PENDING,
    NOTIFY_ASSIGNEE,
    RECORD_CONTACT,
    REFRESH_PRIORITIES,
)
from entrypoints.worker.tasks import worker_task

__all__ = ["CRON_JOBS", "FUNCTIONS", "flag_case", "mark_payment_pending", "notify_assignee", "record_contact",
           "refresh_priorities"]


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


@worker_task
async def record_contact(ctx: dict[str, Any], case_id: int, message_id: int, channel: str, at: str,
                         purpose: str | None = None) -> bool:
    return bool(await ctx["desk"].reactions().record_contact(
        int(case_id), int(message_id), channel, purpose, datetime.fromisoformat(at)))


@worker_task
async def mark_payment_pending(ctx: dict[str, Any], case_id: int, payment_id: int, channel: str, url: str, at: str,
                               message_id: int | None = None, actor_id: int | None = None) -> bool:
    return bool(await ctx["desk"].reactions().mark_payment_pending(
        int(case_id), int(payment_id), channel, url, _int(message_id), _int(actor_id), datetime.fromisoformat(at)))


@worker_task
async def flag_case(ctx: dict[str, Any], case_id: int, payment_id: int, code: str, message: str, at: str,
                    details: dict[str, Any] | None = None) -> bool:
    return bool(await ctx["desk"].reactions().flag(
        int(case_id), int(payment_id), code, message, datetime.fromisoformat(at), details))


@worker_task
async def notify_assignee(ctx: dict[str, Any], case_id: int, assignee_id: int, at: str,
                          actor_id: int | None = None) -> bool:
    return bool(await ctx["desk"].reactions().notify_assigned(int(case_id), int(assignee_id), _int(actor_id), at))


@worker_task
async def refresh_priorities(ctx: dict[str, Any]) -> int:
    return int(await ctx["desk"].cases().refresh_priorities())


FUNCTIONS: list[Any] = [
    func(record_contact, name=RECORD_CONTACT, max_tries=10, timeout=30),
    func(mark_payment_pending, name=MARK_PAYMENT_PENDING, max_tries=10, timeout=30),
    func(flag_case, name=FLAG_CASE, max_tries=10, timeout=30),
    func(notify_assignee, name=NOTIFY_ASSIGNEE, max_tries=3, timeout=30),
]
CRON_JOBS: list[Any] = [
    # daily at 02:30 UTC (08:00 IST), after the day's cases are opened; at start-up too, to catch up
    cron(refresh_priorities, name=REFRESH_PRIORITIES + ".daily", hour={2}, minute={30}, run_at_startup=True,
         timeout=1800),
]
