"""Shared rate limits: token buckets every worker process draws from (Redis in production)."""

from __future__ import annotations

from typing import Protocol

import msgspec

__all__ = ["RateLimit", "RateLimiter"]


class RateLimit(msgspec.Struct, frozen=True, kw_only=True):
    """`rate` tokens per second refill a bucket holding at most `burst` tokens; rate 0 means unlimited."""

    rate: float
    burst: int = 1


class RateLimiter(Protocol):
    async def reserve(self, bucket: str, limit: RateLimit, tokens: int = 1) -> float:
        """Take `tokens` if the bucket holds them and return 0.0; otherwise take nothing and return the
        seconds to wait before they will be there."""
        ...

    async def acquire(self, bucket: str, limit: RateLimit, tokens: int = 1, *, max_wait: float = 30.0) -> bool:
        """Wait (sleeping, never spinning) until `tokens` are taken; False when that would exceed `max_wait`."""
        ...
