"""Token buckets in process memory: the Redis bucket's semantics on a dict, for tests and the memory container.

The arithmetic is the Lua script's of `adapters.redis.token_bucket`: a bucket nobody has drawn from is full;
it refills at `rate` tokens per second up to `burst`; `reserve` takes tokens only when they are there; `acquire`
books its tokens at once, letting the bucket go into debt by at most `max_wait` seconds of refill, then sleeps
until they are due, so concurrent callers are served first come, first served and never poll. Only the process
that holds the object sees its buckets; an injected clock and sleep make it deterministic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from application.ports.rate_limits import RateLimit, is_unlimited

__all__ = ["InMemoryTokenBucket"]

Sleep = Callable[[float], Awaitable[None]]
_SHORTFALL_IGNORED = 1e-9  # tokens: less is float rounding (1000.05 - 1000 < 0.05), not a reason to wait


class InMemoryTokenBucket:
    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, tuple[float, float]] = {}  # bucket -> (tokens, when they were counted)

    def _take(self, bucket: str, limit: RateLimit, tokens: int, max_wait: float) -> tuple[bool, float]:
        """(taken, seconds until the tokens are due): taken when that wait is at most `max_wait`."""
        now = self._clock()
        held, counted_at = self._buckets.get(bucket, (float(limit.burst), now))
        if now > counted_at:
            held = min(float(limit.burst), held + (now - counted_at) * limit.rate)
            counted_at = now
        wait = (tokens - held) / limit.rate if held + _SHORTFALL_IGNORED < tokens else 0.0
        if wait > max_wait:
            return False, wait
        self._buckets[bucket] = (held - tokens, counted_at)
        return True, wait

    async def reserve(self, bucket: str, limit: RateLimit, tokens: int = 1) -> float:
        if is_unlimited(limit, tokens):
            return 0.0
        taken, wait = self._take(bucket, limit, tokens, max_wait=0.0)
        return 0.0 if taken else wait

    async def acquire(self, bucket: str, limit: RateLimit, tokens: int = 1, *, max_wait: float = 30.0) -> bool:
        if is_unlimited(limit, tokens):
            return True
        taken, wait = self._take(bucket, limit, tokens, max_wait=max(0.0, max_wait))
        if taken and wait > 0:
            await self._sleep(wait)
        return taken
