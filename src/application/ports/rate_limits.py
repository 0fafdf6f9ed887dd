"""Shared rate limits: token buckets every worker process draws from (Redis in production)."""

from __future__ import annotations

import math
from typing import Protocol

import msgspec

__all__ = ["RateLimit", "RateLimiter", "is_unlimited"]


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


def is_unlimited(limit: RateLimit, tokens: int) -> bool:
    """Check the arguments; True when the limit lets everything through (rate 0).

    Raises:
        ValueError: fewer than one token, a negative or non-finite rate, or more tokens than the bucket holds.
    """
    if tokens < 1:
        raise ValueError(f"take at least one token, not {tokens}")
    if not math.isfinite(limit.rate) or limit.rate < 0:
        raise ValueError(f"a rate is a finite number of tokens per second >= 0, not {limit.rate}")
    if limit.rate == 0:
        return True
    if tokens > limit.burst:
        raise ValueError(f"{tokens} tokens can never be in a bucket that holds at most {limit.burst}")
    return False
