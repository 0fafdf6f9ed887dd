"""The clock port: time is injected, never read from the system inside domain or application."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

__all__ = ["Clock"]


class Clock(Protocol):
    def now(self) -> datetime:
        """Return the current time, timezone-aware in UTC."""
        ...

    def today(self) -> date:
        """Return today's date in the business time zone."""
        ...
