"""What the analytics service needs: the figures of the case book and a short-lived shared cache."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from application.analytics.views import AgentFigures, AgentsQuery, DashboardFigures, DashboardQuery
from application.shared.visibility import Visibility

__all__ = ["AnalyticsReadModel", "DashboardCache"]


class AnalyticsReadModel(Protocol):
    async def dashboard(self, query: DashboardQuery, visibility: Visibility, today: date) -> DashboardFigures:
        """The tallies of the cases `visibility` reaches that match the query; `today` in the business time zone.

        Only non-empty time-series buckets are returned; the service fills the gaps.
        """
        ...

    async def agents(self, query: AgentsQuery, visibility: Visibility) -> list[AgentFigures]:
        """Per assignee: the visible cases assigned (assigned_at, else created_at) in the range."""
        ...


class DashboardCache(Protocol):
    """Bytes under a key for `ttl` seconds, and a lock so that one process computes a key at a time."""

    async def get(self, key: str) -> bytes | None: ...

    async def put(self, key: str, value: bytes, ttl: int) -> None: ...

    async def try_lock(self, key: str, ttl: int) -> bool:
        """Take the computing lock of `key` for at most `ttl` seconds; False when another holder has it."""
        ...

    async def unlock(self, key: str) -> None: ...
