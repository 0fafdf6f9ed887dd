"""In-app notifications for users (the `notifications` table; the notifications context will add reading them)."""

from __future__ import annotations

from typing import Any, Literal, Protocol

import msgspec

__all__ = ["Notice", "Notifications"]


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    """One notification; `key` makes it once-only (a retried job does not notify twice)."""

    user_id: int
    type: str  # e.g. case.lapsed
    title: str
    message: str
    key: str
    data: dict[str, Any] = {}
    priority: Literal["low", "medium", "high", "urgent"] = "medium"


class Notifications(Protocol):
    async def notify(self, notice: Notice) -> bool:
        """Store the notice unless one with the same user and key exists; True when stored."""
        ...

    async def of_user(self, user_id: int) -> list[Notice]:
        """The user's notices, oldest first."""
        ...
