"""Device sessions and their refresh-token families: the records, the rotation rule and the token hash.

A session is one login on one device. It lives at most until `expires_at` (an absolute lifetime that refreshing
never extends) and ends early when revoked. Each session owns a family of opaque refresh tokens: every refresh
marks the presented token used and issues the next one, so exactly one token of a family is usable at a time.
A used token presented again means that two parties hold the family (a stolen token, or a stolen copy racing
its owner): the whole session is revoked, which ends both of them (OAuth 2.0 Security BCP, refresh token
rotation). `version` is copied into every access token of the session; bumping it (on any revocation) makes
the request guard refuse those access tokens on the very next request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = [
    "IP_ADDRESS_MAX",
    "REFRESH_REUSE",
    "USER_AGENT_MAX",
    "DeviceSession",
    "RefreshOutcome",
    "clip",
    "hash_refresh_token",
    "rotation_outcome",
]

REFRESH_REUSE = "refresh_reuse"  # the revocation reason when a rotated refresh token comes back
USER_AGENT_MAX = 500  # longer user agents are stored cut, never refused: they are for display only
IP_ADDRESS_MAX = 45  # the longest textual IPv6 address (with an embedded IPv4 part)


@dataclass(frozen=True, slots=True)
class DeviceSession:
    """One login on one device, as listed under GET /api/auth/sessions; `id` is the public session id."""

    id: str
    user_id: int
    user_agent: str | None
    ip_address: str | None
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    version: int
    revoked_reason: str | None = None

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


class RefreshOutcome(StrEnum):
    """What presenting a refresh token did; only ROTATED lets the caller issue new tokens."""

    ROTATED = "rotated"  # the token was current: it is now used and its successor stored
    REUSED = "reused"  # the token had already been rotated: its whole session is now revoked
    EXPIRED = "expired"  # the token or its session is past its lifetime
    UNKNOWN = "unknown"  # no such token (never issued, or its session was deleted)
    REVOKED = "revoked"  # the token's session was revoked earlier (logout, reuse, deactivation, ...)


def rotation_outcome(
    session: DeviceSession, *, token_used_at: datetime | None, token_expires_at: datetime, now: datetime,
) -> RefreshOutcome:
    """What presenting this known token now should do; ROTATED means "rotate it". Every store decides by this.

    A dead session wins over everything, so a family is revoked once only. Reuse is checked before the token's
    own expiry: a rotated token coming back is evidence of theft even when it could no longer be used itself.
    """
    if session.revoked_at is not None:
        return RefreshOutcome.REVOKED
    if now >= session.expires_at:
        return RefreshOutcome.EXPIRED
    if token_used_at is not None:
        return RefreshOutcome.REUSED
    if now >= token_expires_at:
        return RefreshOutcome.EXPIRED
    return RefreshOutcome.ROTATED


def hash_refresh_token(token: str) -> str:
    """The stored form of a refresh token: its SHA-256 as 64 hex digits.

    Refresh tokens are 256 random bits, so no one can guess one or search for it offline from a leaked hash: a
    plain, unsalted, fast hash is right (a slow salted hash like argon2 only protects guessable secrets such as
    passwords), and being deterministic it can be looked up through a unique index.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def clip(value: str | None, limit: int) -> str | None:
    """Device details as stored: cut to the column's length, never refused."""
    return None if value is None else value[:limit]
