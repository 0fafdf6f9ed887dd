"""User events over Redis pub/sub: any API instance serves any user's WebSocket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = ["RedisUserEvents"]

log = structlog.get_logger("events")


class RedisUserEvents:
    def __init__(self, redis: Redis, *, prefix: str = "events:user") -> None:
        self._redis = redis
        self._prefix = prefix

    def _channel(self, user_id: int) -> str:
        return f"{self._prefix}:{user_id}"

    async def publish(self, user_id: int, event_type: str, data: dict[str, Any]) -> None:
        try:
            await self._redis.publish(self._channel(user_id), json.dumps({"type": event_type, "data": data}))
        except RedisError as exc:  # progress is best effort: the status endpoint has the same numbers
            log.warning("user_event_not_published", event_type=event_type, error=type(exc).__name__)

    async def subscribe(self, user_id: int) -> AsyncIterator[dict[str, Any]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._channel(user_id))
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    payload: dict[str, Any] = json.loads(message["data"])
                    yield payload
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]
