"""HTTP controllers of the desk area; `ROUTES` is what the app registers."""

from __future__ import annotations

from typing import Any

from entrypoints.http.desk.agents import AgentCapacityController
from entrypoints.http.desk.cases import DeskCaseController

__all__ = ["ROUTES"]

ROUTES: list[Any] = [DeskCaseController, AgentCapacityController]
