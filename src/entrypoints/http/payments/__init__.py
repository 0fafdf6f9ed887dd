"""HTTP controllers of the payments area; `ROUTES` is what the app registers."""

from __future__ import annotations

from typing import Any

__all__ = ["ROUTES"]

ROUTES: list[Any] = []
