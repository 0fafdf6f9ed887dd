"""The brute-force throttle for logins (ASVS 5.0 level 2, 6.3.1 and 6.3.5): pure policy, no storage.

Failures are counted in a sliding window (one hour) under three keys, each a list of failure times in seconds:
- the account (at most `account_limit` = 100 failures per window, from all clients together);
- the client IP across accounts (at most `ip_limit`, against credential stuffing from one address);
- the (account, client IP) pair: `free_attempts` failures are free, then each further failure makes that client
  wait `base_delay` seconds, doubling per failure, capped at `max_delay`.

A refusal is never for ever: a failure counts only while it is younger than the window, so `retry_after` is at
most the window (the account and IP limits lift when the failures that filled them age out) and delays are
capped below it. The account is an opaque key: callers pass the normalised login name whether or not such an
account exists, so an unknown account is throttled exactly like a known one. `reason` is for logs and metrics
only; the login response must say the same generic thing for a refusal, a wrong password and an unknown account.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ACCOUNT_LIMIT", "ALLOWED", "DELAY", "IP_LIMIT", "ThrottleDecision", "ThrottlePolicy"]

ACCOUNT_LIMIT = "account_limit"
IP_LIMIT = "ip_limit"
DELAY = "delay"
_EXPONENT_CAP = 1000  # 2.0**1000 is finite; any larger exponent is capped by max_delay anyway


@dataclass(frozen=True, slots=True)
class ThrottleDecision:
    """Whether a login attempt may go ahead; if not, after how many seconds it may, and why (for logs only)."""

    allowed: bool
    retry_after: float = 0.0
    reason: str = ""


ALLOWED = ThrottleDecision(allowed=True)


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    account_limit: int = 100      # failures per account per window, from any client
    window: float = 3600.0        # seconds; sliding
    free_attempts: int = 5        # failures per (account, client IP) before delays start
    base_delay: float = 1.0       # seconds after the first failure beyond the free ones; doubles per failure
    max_delay: float = 900.0      # the cap of the per-pair delay
    ip_limit: int = 1000          # failures per client IP per window, across all accounts

    def __post_init__(self) -> None:
        if not (math.isfinite(self.window) and self.window > 0):
            raise ValueError("window must be a positive number of seconds")
        if self.account_limit < 1 or self.ip_limit < 1:
            raise ValueError("account_limit and ip_limit must be at least 1")
        if self.free_attempts < 1:
            raise ValueError("free_attempts must be at least 1")
        if not (0 < self.base_delay <= self.max_delay <= self.window):
            raise ValueError("delays must satisfy 0 < base_delay <= max_delay <= window")

    def delay_for(self, pair_failures: int) -> float:
        """Seconds a client must wait after its `pair_failures`-th failure on an account within the window.

        0 for the first `free_attempts - 1` failures; `base_delay` after the `free_attempts`-th, doubling with
        each further failure, never more than `max_delay`.
        """
        beyond = pair_failures - self.free_attempts
        if beyond < 0:
            return 0.0
        return min(self.max_delay, self.base_delay * 2.0 ** min(beyond, _EXPONENT_CAP))

    @property
    def pair_history(self) -> int:
        """How many of a pair's newest failures decide its delay: from this count on the delay is `max_delay`.

        Stores may keep only this many newest failures per pair (and `account_limit` per account, `ip_limit`
        per IP) without changing any decision, which bounds their memory whatever a caller records.
        """
        count = self.free_attempts
        while self.delay_for(count) < self.max_delay:
            count += 1
        return count

    def decide(
        self,
        now: float,
        account_failures: Sequence[float],
        pair_failures: Sequence[float],
        ip_failures: Sequence[float],
    ) -> ThrottleDecision:
        """Whether an attempt at `now` may go ahead, given the failure times (seconds) of its three keys.

        Times older than the window are ignored and times after `now` (a skewed clock) count as `now`. When
        several limits refuse, `retry_after` is the longest wait (the others have lifted by then) and `reason`
        names that limit, preferring account_limit, then ip_limit, then delay on a tie.
        """
        account = self._in_window(now, account_failures)
        pair = self._in_window(now, pair_failures)
        ip = self._in_window(now, ip_failures)
        waits = [
            (self._limit_wait(now, account, self.account_limit), ACCOUNT_LIMIT),
            (self._limit_wait(now, ip, self.ip_limit), IP_LIMIT),
            (self._delay_wait(now, pair), DELAY),
        ]
        longest = 0.0
        reason = ""
        for wait, why in waits:
            if wait > longest:
                longest, reason = wait, why
        if longest <= 0:
            return ALLOWED
        return ThrottleDecision(allowed=False, retry_after=longest, reason=reason)

    def _in_window(self, now: float, failures: Sequence[float]) -> list[float]:
        """The failures still counted at `now`, oldest first; a failure at t counts while now < t + window."""
        cutoff = now - self.window
        return sorted(min(at, now) for at in failures if at > cutoff)

    def _limit_wait(self, now: float, failures: list[float], limit: int) -> float:
        """0 below `limit`; else until enough of the oldest failures leave the window to fall below it again."""
        if len(failures) < limit:
            return 0.0
        # after this one leaves, limit - 1 failures remain in the window
        leaving = failures[len(failures) - limit]
        return min(self.window, max(0.0, leaving + self.window - now))

    def _delay_wait(self, now: float, failures: list[float]) -> float:
        if not failures:
            return 0.0
        delay = self.delay_for(len(failures))
        return min(delay, max(0.0, failures[-1] + delay - now))
