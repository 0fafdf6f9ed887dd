"""In-process user events: every published event is kept (for tests) and handed to live subscribers."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["InMemoryUserEvents"]


class InMemoryUserEvents:
    def __init__(self) -> None:
        self.published: list[tuple[int, dict[str, Any]]] = []
        self._queues: dict[int, list[asyncio.Queue[dict[str, Any]]]] = defaultdict(list)

    async def publish(self, user_id: int, event_type: str, data: dict[str, Any]) -> None:
        event = {"type": event_type, "data": data}
        self.published.append((user_id, event))
        for queue in self._queues.get(user_id, []):
            queue.put_nowait(event)

    async def subscribe(self, user_id: int) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues[user_id].append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues[user_id].remove(queue)
