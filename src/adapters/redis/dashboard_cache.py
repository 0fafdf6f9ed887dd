"""The dashboard cache on Redis: values with a TTL, and a per-key lock (SET NX EX with a token) across processes.

Keys: `{prefix}:v:{key}` holds the value, `{prefix}:lock:{key}` the computing lock. Unlocking deletes the lock only
when it still holds this process's token (a lock that expired and was taken by another process is left alone).
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

__all__ = ["RedisDashboardCache"]

_UNLOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class RedisDashboardCache:
    def __init__(self, redis: Redis, prefix: str = "cache") -> None:
        self._redis = redis
        self._prefix = prefix
        self._tokens: dict[str, str] = {}

    async def get(self, key: str) -> bytes | None:
        value: bytes | None = await self._redis.get(f"{self._prefix}:v:{key}")
        return value

    async def put(self, key: str, value: bytes, ttl: int) -> None:
        await self._redis.set(f"{self._prefix}:v:{key}", value, ex=ttl)

    async def try_lock(self, key: str, ttl: int) -> bool:
        token = secrets.token_hex(8)
        taken = await self._redis.set(f"{self._prefix}:lock:{key}", token, nx=True, ex=ttl)
        if taken:
            self._tokens[key] = token
        return bool(taken)

    async def unlock(self, key: str) -> None:
        token = self._tokens.pop(key, None)
        if token is not None:
            await self._redis.eval(_UNLOCK, 1, f"{self._prefix}:lock:{key}", token)  # type: ignore[misc]
