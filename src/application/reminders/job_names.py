"""Names of the reminders context's background jobs (arq function names)."""

from __future__ import annotations

__all__ = ["FALL_BACK", "SEND_DUE", "STOP_FOR_CASE"]

SEND_DUE = "reminders.send_due"
STOP_FOR_CASE = "reminders.stop_for_case"
FALL_BACK = "reminders.fall_back"
