"""Real-time events for one user (upload progress, later notifications), fanned out across API instances."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

__all__ = ["UserEvents"]


class UserEvents(Protocol):
    async def publish(self, user_id: int, event_type: str, data: dict[str, Any]) -> None:
        """Deliver `{"type": event_type, "data": data}` to the user's open connections; fire and forget:
        an event nobody is listening for is dropped (state is always readable through the API)."""
        ...

    def subscribe(self, user_id: int) -> AsyncIterator[dict[str, Any]]:
        """The user's events as they are published, until the consumer stops iterating."""
        ...
