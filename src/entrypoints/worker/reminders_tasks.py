"""arq tasks and cron jobs of the reminders area; the worker registers `FUNCTIONS` and `CRON_JOBS`."""

from __future__ import annotations

from typing import Any

from arq import cron, func

from application.reminders.job_names import FALL_BACK, SEND_DUE, STOP_FOR_CASE
from entrypoints.worker.tasks import worker_task

__all__ = ["CRON_JOBS", "FUNCTIONS", "fall_back", "send_due_reminders", "stop_reminders_for_case"]


@worker_task
async def send_due_reminders(ctx: dict[str, Any]) -> int:
    """The daily job: the due step of every open case (idempotent, safe on two workers, catch-up safe)."""
    report = await ctx["reminders"].reminders().send_due()
    return int(report.sent)


@worker_task
async def stop_reminders_for_case(ctx: dict[str, Any], case_id: int) -> int:
    """The case closed (policies.case_closed): its reminders in flight are cancelled."""
    return int(await ctx["reminders"].reminders().stop_for_case(int(case_id)))


@worker_task
async def fall_back(ctx: dict[str, Any], message_id: int, case_id: int, error_code: str | None = None) -> bool:
    """A reminder message failed (messaging.message_failed): the step's next channel, once."""
    return bool(await ctx["reminders"].reminders().fall_back(int(message_id), int(case_id), error_code))


FUNCTIONS: list[Any] = [
    func(send_due_reminders, name=SEND_DUE, max_tries=5, timeout=3600),
    func(stop_reminders_for_case, name=STOP_FOR_CASE, max_tries=10, timeout=60),
    func(fall_back, name=FALL_BACK, max_tries=10, timeout=60),
]
CRON_JOBS: list[Any] = [
    # daily at 03:30 UTC (09:00 IST), after the cases are opened at 01:30; at start-up too, so a restarted worker
    # catches up (the ladder never bursts: only the latest missed step goes out)
    cron(send_due_reminders, name=f"{SEND_DUE}.daily", hour={3}, minute={30}, run_at_startup=True, timeout=3600),
]
