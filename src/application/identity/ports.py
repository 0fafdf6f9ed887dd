"""Ports of the identity context's use cases."""

from __future__ import annotations

from typing import Protocol

from domain.identity.throttling import ThrottleDecision

__all__ = ["LoginThrottle"]


class LoginThrottle(Protocol):
    """Counts failed logins per account, per (account, client IP) pair and per client IP; see ThrottlePolicy.

    The login use case calls `check` before it verifies anything and, when refused, answers with the same generic
    message as for a wrong password (never the reason). `account` is an opaque key: the normalised login name
    as typed, whether or not such an account exists, so an unknown account is throttled exactly like a known one
    and nothing about it is revealed by messages or timing. The caller must still verify a dummy hash for an
    unknown account, so that its failure takes as long as a wrong password.

    `record_success` clears only the pair's history, the per-client delay of the owner who proved the password.
    The account's hourly count and the IP's count stay: otherwise an attacker guessing in parallel with the
    owner's regular logins would get a fresh 100 guesses after each of them (the ASVS cap is per hour, not per
    success), and one who owns any account could reset the IP count of a stuffing address by logging into it.

    `check` then `record_failure` is not atomic: concurrent attempts that all pass `check` before any failure
    is recorded may exceed a limit by the number of attempts in flight at that moment.
    """

    async def check(self, account: str, ip: str) -> ThrottleDecision:
        """Whether an attempt on `account` from client `ip` may go ahead now; records nothing."""
        ...

    async def record_failure(self, account: str, ip: str) -> None:
        """Count a failed attempt (a wrong password or an unknown account) now, under all three keys."""
        ...

    async def record_success(self, account: str, ip: str) -> None:
        """Clear the delay history of this (account, ip) pair after the right password; keep the other counts."""
        ...
