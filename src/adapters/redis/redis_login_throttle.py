"""The login throttle on Redis: one sorted set of failure times per key, trimmed to the window on every call.

Keys (under `prefix`, default `throttle:login`):
    {prefix}:account:{sha256(account)}       failures on the account from any client
    {prefix}:pair:{sha256(account)}:{ip}     failures on the account from one client IP
    {prefix}:ip:{ip}                         failures from one client IP on any account
Scores are failure times (Unix seconds from the injected clock); members are the time plus a random suffix, so
two failures in the same instant both count. The account is hashed, so Redis holds no login names or e-mail
addresses. Each call is one MULTI/EXEC transaction (one round trip). Every failure trims old members, keeps
only the newest failures that can still matter (ThrottlePolicy.pair_history, account_limit, ip_limit) and
sets the key to expire one window after it, so Redis never fills up whatever a client sends.
"""

from __future__ import annotations

import hashlib
import math
import uuid

from redis.asyncio import Redis

from domain.identity.throttling import ThrottleDecision, ThrottlePolicy
from domain.shared.clock import Clock

__all__ = ["RedisLoginThrottle"]


class RedisLoginThrottle:
    def __init__(
        self,
        redis: Redis,
        clock: Clock,
        policy: ThrottlePolicy = ThrottlePolicy(),
        prefix: str = "throttle:login",
    ) -> None:
        self._redis = redis
        self._clock = clock
        self._policy = policy
        self._prefix = prefix
        self._ttl = math.ceil(policy.window)

    def _keys(self, account: str, ip: str) -> tuple[str, str, str]:
        """The (account, pair, ip) keys."""
        hashed = hashlib.sha256(account.encode("utf-8")).hexdigest()
        return (
            f"{self._prefix}:account:{hashed}",
            f"{self._prefix}:pair:{hashed}:{ip}",
            f"{self._prefix}:ip:{ip}",
        )

    async def check(self, account: str, ip: str) -> ThrottleDecision:
        now = self._clock.now().timestamp()
        cutoff = now - self._policy.window
        keys = self._keys(account, ip)
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.zremrangebyscore(key, "-inf", cutoff)
                pipe.zrangebyscore(key, f"({cutoff!r}", "+inf", withscores=True)
            replies = await pipe.execute()
        account_failures, pair_failures, ip_failures = (
            [float(score) for _member, score in replies[i]] for i in (1, 3, 5)
        )
        return self._policy.decide(now, account_failures, pair_failures, ip_failures)

    async def record_failure(self, account: str, ip: str) -> None:
        now = self._clock.now().timestamp()
        cutoff = now - self._policy.window
        member = f"{now!r}:{uuid.uuid4().hex}"
        account_key, pair_key, ip_key = self._keys(account, ip)
        kept = (
            (account_key, self._policy.account_limit),
            (pair_key, self._policy.pair_history),
            (ip_key, self._policy.ip_limit),
        )
        async with self._redis.pipeline(transaction=True) as pipe:
            for key, keep in kept:
                pipe.zremrangebyscore(key, "-inf", cutoff)
                pipe.zadd(key, {member: now})
                pipe.zremrangebyrank(key, 0, -(keep + 1))  # all but the newest `keep`
                pipe.expire(key, self._ttl)
            await pipe.execute()

    async def record_success(self, account: str, ip: str) -> None:
        _account_key, pair_key, _ip_key = self._keys(account, ip)
        await self._redis.delete(pair_key)
