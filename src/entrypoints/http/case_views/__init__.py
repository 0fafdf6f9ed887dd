"""HTTP controllers of the case views area; `ROUTES` is what the app registers."""

from __future__ import annotations

from typing import Any

from entrypoints.http.case_views.controllers import CaseViewsController

__all__ = ["ROUTES"]

ROUTES: list[Any] = [CaseViewsController]
