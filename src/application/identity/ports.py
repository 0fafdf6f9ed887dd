"""Ports of the identity context's use cases."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, Protocol

import msgspec

from domain.identity.sessions import DeviceSession, RefreshOutcome
from domain.identity.throttling import ThrottleDecision

__all__ = [
    "TOKEN_PURPOSES",
    "AccessClaims",
    "AccessTokenIssuer",
    "InvalidToken",
    "InvalidTokenReason",
    "LoginThrottle",
    "QrRenderer",
    "SecretSealer",
    "SecretSource",
    "SessionStore",
    "TokenPurpose",
]


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


# --- access tokens ----------------------------------------------------------------------------------------

TokenPurpose = Literal["access", "mfa_setup", "mfa_challenge"]
TOKEN_PURPOSES: tuple[TokenPurpose, ...] = ("access", "mfa_setup", "mfa_challenge")

InvalidTokenReason = Literal[
    "expired", "not_yet_valid", "bad_signature", "unknown_key", "malformed", "wrong_purpose", "wrong_audience",
    "wrong_issuer",
]


class AccessClaims(msgspec.Struct, frozen=True, kw_only=True):
    """What a verified access token says; times are Unix seconds (UTC).

    `purpose` limits what the token may do: "access" is an ordinary session token; "mfa_setup" is given to a user
    whose role requires MFA but who has none yet, and opens only the MFA set-up endpoints; "mfa_challenge" is the
    login's intermediate token that opens only the MFA verification step.

    A valid signature is not enough: the request guard must still compare `session_version` (and the session
    itself) with the session store, so that logout, logout-all, deactivation, password change and role change
    take effect on the very next request.
    """

    user_id: int
    session_id: str
    session_version: int
    purpose: TokenPurpose = "access"
    issued_at: int
    expires_at: int
    token_id: str


class InvalidToken(Exception):
    """The token cannot be accepted; `reason` is for logs and metrics, never for the client (answer a plain 401)."""

    def __init__(self, reason: InvalidTokenReason) -> None:
        super().__init__(reason)
        self.reason: InvalidTokenReason = reason


class AccessTokenIssuer(Protocol):
    """Issues and verifies short-lived, signed access tokens naming user, session and signing key.

    `verify` checks the signature, the signing key, issuer, audience, the times (with a small leeway) and that the
    token's purpose is exactly `purpose` (an "mfa_setup" token is no "access" token); it raises InvalidToken.
    It does not consult the session store: that is the request guard's job.
    """

    def issue(
        self,
        *,
        user_id: int,
        session_id: str,
        session_version: int,
        purpose: TokenPurpose = "access",
        ttl_seconds: int | None = None,
    ) -> tuple[str, AccessClaims]:
        """Sign a new token with the current key; `ttl_seconds` defaults to the issuer's configured lifetime."""
        ...

    def verify(self, token: str, *, purpose: TokenPurpose = "access") -> AccessClaims:
        """The token's claims if it is valid now and for `purpose`; otherwise raise InvalidToken."""
        ...


# --- device sessions and refresh tokens -------------------------------------------------------------------

class SessionStore(Protocol):
    """Device sessions and their refresh-token families; every method is one atomic transaction of its own.

    Refresh tokens arrive already hashed (`hash_refresh_token`): the store never sees an opaque token. Sessions
    are named by their public id. A revocation sets `revoked_at` and bumps `version`, so access tokens carrying
    the old version are refused by the request guard on the very next request; `revoke` and `revoke_all` touch
    only live sessions (neither revoked nor expired) and report how many they ended.
    """

    async def start(
        self, *, user_id: int, token_hash: str, user_agent: str | None, ip_address: str | None, now: datetime,
        session_ttl: timedelta, refresh_ttl: timedelta,
    ) -> DeviceSession:
        """Open a session (version 1, a new public id) ending `session_ttl` from now, with its first refresh
        token, which expires after `refresh_ttl` or with the session, whichever comes first. Device details
        longer than their columns are cut."""
        ...

    async def rotate(
        self, *, token_hash: str, new_token_hash: str, now: datetime, refresh_ttl: timedelta,
    ) -> tuple[RefreshOutcome, DeviceSession | None]:
        """Present a refresh token, deciding by `rotation_outcome` with the token (and its session) locked.

        ROTATED: the token is marked used, `new_token_hash` stored as its successor (capped at the session's
        expiry) and the session's `last_used_at` set to now. REUSED: the token had been rotated before, so the
        whole session is revoked with reason "refresh_reuse". Of concurrent calls with one token at most one
        rotates; the others see it used. The session is returned in its new state for every outcome but
        UNKNOWN (None), for auditing: only ROTATED allows issuing tokens.
        """
        ...

    async def revoke(self, session_id: str, *, user_id: int, now: datetime, reason: str) -> bool:
        """End one live session of this user (logout, DELETE /api/auth/sessions/{id}); False if there is no
        such live session of this user: another user's session is never touched."""
        ...

    async def revoke_all(
        self, user_id: int, *, now: datetime, reason: str, except_session: str | None = None,
    ) -> int:
        """End every live session of the user but `except_session` (logout-all, deactivation, password or role
        change); the number ended."""
        ...

    async def active(self, user_id: int, *, now: datetime) -> list[DeviceSession]:
        """The user's live sessions, the most recently used first (GET /api/auth/sessions)."""
        ...

    async def get(self, session_id: str) -> DeviceSession | None:
        """The session in whatever state, for the request guard's check of revocation, expiry and version."""
        ...


# --- randomness and rendering -------------------------------------------------------------------------------

class SecretSource(Protocol):
    """Cryptographically secure randomness, injected so that tests can replay it."""

    def token_bytes(self, size: int) -> bytes: ...

    def token_urlsafe(self, size: int) -> str:
        """A URL-safe text token carrying `size` random bytes."""
        ...


class QrRenderer(Protocol):
    def svg(self, data: str) -> str:
        """An SVG image of a QR code holding `data`."""
        ...


class SecretSealer(Protocol):
    """Encrypts secrets the server must read back (TOTP secrets), so a copy of the database alone reveals none."""

    def seal(self, plain: str) -> str:
        """The stored form of `plain` (authenticated encryption under the current key)."""
        ...

    def unseal(self, sealed: str) -> str:
        """The plain secret; ValueError when it was sealed under no key the sealer holds."""
        ...
