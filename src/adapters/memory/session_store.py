"""The in-memory session store: the SQL store's semantics on two dicts, made atomic by one asyncio.Lock."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.identity.sessions import (
    IP_ADDRESS_MAX,
    REFRESH_REUSE,
    USER_AGENT_MAX,
    DeviceSession,
    RefreshOutcome,
    clip,
    rotation_outcome,
)

__all__ = ["InMemorySessionStore"]


@dataclass(slots=True)
class _Token:
    session_id: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class InMemorySessionStore:
    def __init__(self, *, new_id: Callable[[], str]) -> None:
        self._new_id = new_id
        self._lock = asyncio.Lock()
        self._seq = itertools.count(1)
        self.sessions: dict[str, DeviceSession] = {}  # public id -> session
        self.order: dict[str, int] = {}  # public id -> insertion number (the SQL serial id), to break ties
        self.tokens: dict[str, _Token] = {}  # token hash -> token

    async def start(
        self, *, user_id: int, token_hash: str, user_agent: str | None, ip_address: str | None, now: datetime,
        session_ttl: timedelta, refresh_ttl: timedelta,
    ) -> DeviceSession:
        async with self._lock:
            session_id = self._new_id()
            if session_id in self.sessions or token_hash in self.tokens:
                raise ValueError("duplicate session id or refresh token hash")  # the SQL unique constraints
            session = DeviceSession(
                id=session_id, user_id=user_id, user_agent=clip(user_agent, USER_AGENT_MAX),
                ip_address=clip(ip_address, IP_ADDRESS_MAX), created_at=now, last_used_at=now,
                expires_at=now + session_ttl, revoked_at=None, version=1)
            self.sessions[session_id] = session
            self.order[session_id] = next(self._seq)
            self.tokens[token_hash] = _Token(session_id, now, min(now + refresh_ttl, session.expires_at))
            return session

    async def rotate(
        self, *, token_hash: str, new_token_hash: str, now: datetime, refresh_ttl: timedelta,
    ) -> tuple[RefreshOutcome, DeviceSession | None]:
        async with self._lock:
            token = self.tokens.get(token_hash)
            if token is None:
                return RefreshOutcome.UNKNOWN, None
            session = self.sessions[token.session_id]
            outcome = rotation_outcome(session, token_used_at=token.used_at, token_expires_at=token.expires_at,
                                       now=now)
            if outcome is RefreshOutcome.REUSED:
                session = self._revoked(session, now, REFRESH_REUSE)
            elif outcome is RefreshOutcome.ROTATED:
                if new_token_hash in self.tokens:
                    raise ValueError("duplicate refresh token hash")
                token.used_at = now
                self.tokens[new_token_hash] = _Token(session.id, now, min(now + refresh_ttl, session.expires_at))
                session = self._store(dataclasses.replace(session, last_used_at=now))
            return outcome, session

    async def revoke(self, session_id: str, *, user_id: int, now: datetime, reason: str) -> bool:
        async with self._lock:
            session = self.sessions.get(session_id)
            if session is None or session.user_id != user_id or not session.is_active(now):
                return False
            self._revoked(session, now, reason)
            return True

    async def revoke_all(
        self, user_id: int, *, now: datetime, reason: str, except_session: str | None = None,
    ) -> int:
        async with self._lock:
            ending = [s for s in self.sessions.values()
                      if s.user_id == user_id and s.is_active(now) and s.id != except_session]
            for session in ending:
                self._revoked(session, now, reason)
            return len(ending)

    async def active(self, user_id: int, *, now: datetime) -> list[DeviceSession]:
        live = [s for s in self.sessions.values() if s.user_id == user_id and s.is_active(now)]
        return sorted(live, key=lambda s: (s.last_used_at, self.order[s.id]), reverse=True)

    async def get(self, session_id: str) -> DeviceSession | None:
        return self.sessions.get(session_id)

    def _revoked(self, session: DeviceSession, now: datetime, reason: str) -> DeviceSession:
        return self._store(dataclasses.replace(
            session, revoked_at=now, revoked_reason=reason, version=session.version + 1))

    def _store(self, session: DeviceSession) -> DeviceSession:
        self.sessions[session.id] = session
        return session
