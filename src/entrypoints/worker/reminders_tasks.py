"""arq tasks and cron jobs of the reminders area; the worker registers `FUNCTIONS` and `CRON_JOBS`."""

from __future__ import annotations

from typing import Any

__all__ = ["CRON_JOBS", "FUNCTIONS"]

FUNCTIONS: list[Any] = []  # arq.func(...) entries
CRON_JOBS: list[Any] = []  # arq.cron(...) entries
