"""Clocks: the system clock for deployments, a fixed one for tests and demos."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["FixedClock", "SystemClock"]


class SystemClock:
    def __init__(self, business_timezone: str = "Asia/Kolkata") -> None:
        self._tz = ZoneInfo(business_timezone)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return datetime.now(self._tz).date()


class FixedClock:
    """A clock that stands still until told to move."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def today(self) -> date:
        return self._at.date()

    def advance(self, delta: timedelta) -> None:
        self._at += delta
