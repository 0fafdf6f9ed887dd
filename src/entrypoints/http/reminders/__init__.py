"""HTTP controllers of the reminders area; `ROUTES` is what the app registers."""

from __future__ import annotations

from typing import Any

from entrypoints.http.reminders.controllers import CaseRemindersController, ReminderLadderController

__all__ = ["ROUTES"]

ROUTES: list[Any] = [ReminderLadderController, CaseRemindersController]
