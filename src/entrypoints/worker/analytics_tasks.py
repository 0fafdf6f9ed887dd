"""arq tasks and cron jobs of the analytics area; the worker registers `FUNCTIONS` and `CRON_JOBS`."""

from __future__ import annotations

from typing import Any

from arq import cron

from application.analytics.service import AnalyticsService
from entrypoints.worker.tasks import worker_task

__all__ = ["CRON_JOBS", "FUNCTIONS", "prewarm_dashboard"]


@worker_task
async def prewarm_dashboard(ctx: dict[str, Any]) -> int:
    """Recompute the unfiltered dashboard of the `all` reach (the administrators' first screen) into the cache."""
    service: AnalyticsService = ctx["analytics"].service()
    view = await service.refresh_dashboard(service.dashboard_query())
    return view.summary.total_cases


FUNCTIONS: list[Any] = []  # arq.func(...) entries
# every minute, so the first screen of an administrator is never computed on their request
CRON_JOBS: list[Any] = [
    cron(prewarm_dashboard, name="analytics.prewarm_dashboard", second={40}, run_at_startup=True, timeout=50,
         keep_result=0, unique=True),
]
