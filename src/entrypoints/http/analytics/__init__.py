"""HTTP controllers of the analytics area; `ROUTES` is what the app registers."""

from __future__ import annotations

from typing import Any

from entrypoints.http.analytics.controllers import AnalyticsController

__all__ = ["ROUTES"]

ROUTES: list[Any] = [AnalyticsController]
