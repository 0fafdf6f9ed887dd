"""Shared token buckets on Redis: every worker process, on every host, draws from the same bucket.

One hash per bucket, `{key_prefix}{bucket}`, holds `tokens` (may be negative: booked by waiting acquirers) and
`at` (when they were counted, in microseconds of the Redis server's clock). One Lua script, loaded once and run
by EVALSHA (redis-py's `register_script`, which loads it again after a NOSCRIPT), does the whole step atomically:
it reads the server's `TIME` (not the client's clock, which differs between hosts), refills `rate` tokens per
second up to `burst`, then either takes the tokens (when their wait is at most the caller's `max_wait`) or
takes nothing, and returns that wait. Each write sets the key to expire when the bucket would be full again: a
missing key is a full bucket, so idle buckets vanish without changing anything.

`reserve` passes a `max_wait` of 0, so it takes tokens only when they are there. `acquire` books its tokens at
once and sleeps until they are due, so N concurrent callers queue first come, first served, each with one round
trip and one sleep, instead of all waking at every refill to race for the next token. A caller cancelled while
it sleeps leaves its booked tokens spent: the bucket errs on the slow side, never the fast one.

Redis runs scripts atomically and, since Redis 5 (always since 7), replicates their effects rather than the
script, so calling `TIME` before writing is allowed:
https://redis.io/docs/latest/develop/programmability/eval-intro/ (script replication, EVALSHA, SCRIPT LOAD).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from application.ports.rate_limits import RateLimit, is_unlimited

__all__ = ["TOKEN_BUCKET_SCRIPT", "RedisTokenBucket"]

Sleep = Callable[[float], Awaitable[None]]

# KEYS[1] the bucket hash; ARGV rate (tokens/s), burst, tokens wanted, longest wait (s) the caller will book
TOKEN_BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local max_wait = tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(stored[1])
local at = tonumber(stored[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
elseif now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000000)
  at = now
end
local wait = 0
if tokens + 1e-9 < wanted then -- less is float rounding, not a reason to wait
  wait = (wanted - tokens) / rate
end
if wait > max_wait then
  return {0, string.format('%.17g', wait)}
end
tokens = tokens - wanted
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', at))
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.ceil((burst - tokens) * 1000 / rate)))
return {1, string.format('%.17g', wait)}
"""

_LONGEST_BOOKING = 86_400.0  # seconds; caps `max_wait` so the script always gets a finite number


class RedisTokenBucket:
    def __init__(self, redis: Redis, *, key_prefix: str = "ratelimit:", sleep: Sleep = asyncio.sleep) -> None:
        self._script = redis.register_script(TOKEN_BUCKET_SCRIPT)
        self._key_prefix = key_prefix
        self._sleep = sleep

    def key(self, bucket: str) -> str:
        """The Redis key of `bucket`."""
        return f"{self._key_prefix}{bucket}"

    async def _take(self, bucket: str, limit: RateLimit, tokens: int, max_wait: float) -> tuple[bool, float]:
        """(taken, seconds until the tokens are due): taken when that wait is at most `max_wait`."""
        booking = min(max(0.0, max_wait), _LONGEST_BOOKING)
        taken, wait = await self._script(
            keys=[self.key(bucket)], args=[repr(float(limit.rate)), limit.burst, tokens, repr(booking)],
        )
        return bool(int(taken)), float(wait)

    async def reserve(self, bucket: str, limit: RateLimit, tokens: int = 1) -> float:
        if is_unlimited(limit, tokens):
            return 0.0
        taken, wait = await self._take(bucket, limit, tokens, max_wait=0.0)
        return 0.0 if taken else wait

    async def acquire(self, bucket: str, limit: RateLimit, tokens: int = 1, *, max_wait: float = 30.0) -> bool:
        if is_unlimited(limit, tokens):
            return True
        taken, wait = await self._take(bucket, limit, tokens, max_wait)
        if taken and wait > 0:
            await self._sleep(wait)
        return taken
