"""The in-memory login throttle: the Redis throttle's semantics on a dict of sorted failure times."""

from __future__ import annotations

import bisect

from domain.identity.throttling import ThrottleDecision, ThrottlePolicy
from domain.shared.clock import Clock

__all__ = ["InMemoryLoginThrottle"]

_Key = tuple[str, ...]


class InMemoryLoginThrottle:
    def __init__(self, clock: Clock, policy: ThrottlePolicy = ThrottlePolicy()) -> None:
        self._clock = clock
        self._policy = policy
        self.failures: dict[_Key, list[float]] = {}  # key -> failure times, oldest first

    @staticmethod
    def _keys(account: str, ip: str) -> tuple[_Key, _Key, _Key]:
        return ("account", account), ("pair", account, ip), ("ip", ip)

    def _trimmed(self, key: _Key, now: float) -> list[float]:
        """The key's failures younger than the window; an emptied key is dropped (Redis's EXPIRE)."""
        times = self.failures.get(key, [])
        del times[: bisect.bisect_right(times, now - self._policy.window)]
        if not times:
            self.failures.pop(key, None)
        return list(times)

    async def check(self, account: str, ip: str) -> ThrottleDecision:
        now = self._clock.now().timestamp()
        account_failures, pair_failures, ip_failures = (self._trimmed(key, now) for key in self._keys(account, ip))
        return self._policy.decide(now, account_failures, pair_failures, ip_failures)

    async def record_failure(self, account: str, ip: str) -> None:
        now = self._clock.now().timestamp()
        account_key, pair_key, ip_key = self._keys(account, ip)
        kept = (
            (account_key, self._policy.account_limit),
            (pair_key, self._policy.pair_history),
            (ip_key, self._policy.ip_limit),
        )
        for key, keep in kept:
            self._trimmed(key, now)
            times = self.failures.setdefault(key, [])
            bisect.insort(times, now)
            del times[:-keep]  # all but the newest `keep`

    async def record_success(self, account: str, ip: str) -> None:
        self.failures.pop(self._keys(account, ip)[1], None)
