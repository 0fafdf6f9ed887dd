"""The SQL session store: device sessions and refresh-token families in PostgreSQL, one transaction per call.

Rotation locks the presented token's row together with its session's row (`SELECT ... FOR UPDATE` over the
join), so concurrent refreshes with one token queue up: the first rotates, the next sees the token used, and
a revocation racing a rotation either waits for it or is seen by it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.tables.identity import refresh_tokens, user_sessions
from domain.identity.sessions import (
    IP_ADDRESS_MAX,
    REFRESH_REUSE,
    USER_AGENT_MAX,
    DeviceSession,
    RefreshOutcome,
    clip,
    rotation_outcome,
)

__all__ = ["SqlAlchemySessionStore"]

_S = user_sessions.c
_T = refresh_tokens.c
_SESSION = (_S.public_id, _S.user_id, _S.user_agent, _S.ip_address, _S.created_at, _S.last_used_at,
            _S.expires_at, _S.revoked_at, _S.version, _S.revoked_reason)
_AnyRow = Row[*tuple[Any, ...]]


def _session(row: _AnyRow) -> DeviceSession:
    return DeviceSession(
        id=row.public_id, user_id=row.user_id, user_agent=row.user_agent, ip_address=row.ip_address,
        created_at=row.created_at, last_used_at=row.last_used_at, expires_at=row.expires_at,
        revoked_at=row.revoked_at, version=row.version, revoked_reason=row.revoked_reason)


def _live(now: datetime) -> ColumnElement[bool]:
    return and_(_S.revoked_at.is_(None), _S.expires_at > now)


def _revocation(now: datetime, reason: str) -> dict[str, Any]:
    return {"revoked_at": now, "revoked_reason": reason, "version": _S.version + 1}


class SqlAlchemySessionStore:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], *, new_id: Callable[[], str]) -> None:
        self._session_factory = session_factory
        self._new_id = new_id

    async def start(
        self, *, user_id: int, token_hash: str, user_agent: str | None, ip_address: str | None, now: datetime,
        session_ttl: timedelta, refresh_ttl: timedelta,
    ) -> DeviceSession:
        expires_at = now + session_ttl
        async with self._session_factory() as s, s.begin():
            row = (await s.execute(
                insert(user_sessions).values(
                    public_id=self._new_id(), user_id=user_id, user_agent=clip(user_agent, USER_AGENT_MAX),
                    ip_address=clip(ip_address, IP_ADDRESS_MAX), created_at=now, last_used_at=now,
                    expires_at=expires_at, version=1)
                .returning(_S.id, *_SESSION))).one()
            await s.execute(insert(refresh_tokens).values(
                session_id=row.id, token_hash=token_hash, issued_at=now,
                expires_at=min(now + refresh_ttl, expires_at)))
        return _session(row)

    async def rotate(
        self, *, token_hash: str, new_token_hash: str, now: datetime, refresh_ttl: timedelta,
    ) -> tuple[RefreshOutcome, DeviceSession | None]:
        async with self._session_factory() as s, s.begin():
            found = (await s.execute(
                select(_T.id.label("token_id"), _T.used_at, _T.expires_at.label("token_expires_at"),
                       _S.id, *_SESSION)
                .select_from(refresh_tokens.join(user_sessions))
                .where(_T.token_hash == token_hash)
                .with_for_update())).one_or_none()
            if found is None:
                return RefreshOutcome.UNKNOWN, None
            session = _session(found)
            outcome = rotation_outcome(session, token_used_at=found.used_at,
                                       token_expires_at=found.token_expires_at, now=now)
            if outcome is RefreshOutcome.REUSED:
                session = await self._update_session(s, found.id, _revocation(now, REFRESH_REUSE))
            elif outcome is RefreshOutcome.ROTATED:
                await s.execute(update(refresh_tokens).where(_T.id == found.token_id).values(used_at=now))
                await s.execute(insert(refresh_tokens).values(
                    session_id=found.id, token_hash=new_token_hash, issued_at=now,
                    expires_at=min(now + refresh_ttl, session.expires_at)))
                session = await self._update_session(s, found.id, {"last_used_at": now})
            return outcome, session

    async def revoke(self, session_id: str, *, user_id: int, now: datetime, reason: str) -> bool:
        ended = await self._revoke_where(
            and_(_S.public_id == session_id, _S.user_id == user_id, _live(now)), now, reason)
        return ended == 1

    async def revoke_all(
        self, user_id: int, *, now: datetime, reason: str, except_session: str | None = None,
    ) -> int:
        where = and_(_S.user_id == user_id, _live(now))
        if except_session is not None:
            where = and_(where, _S.public_id != except_session)
        return await self._revoke_where(where, now, reason)

    async def active(self, user_id: int, *, now: datetime) -> list[DeviceSession]:
        async with self._session_factory() as s:
            rows = await s.execute(
                select(*_SESSION).where(_S.user_id == user_id, _live(now))
                .order_by(_S.last_used_at.desc(), _S.id.desc()))
            return [_session(row) for row in rows]

    async def get(self, session_id: str) -> DeviceSession | None:
        async with self._session_factory() as s:
            row = (await s.execute(select(*_SESSION).where(_S.public_id == session_id))).one_or_none()
            return None if row is None else _session(row)

    async def _revoke_where(self, where: ColumnElement[bool], now: datetime, reason: str) -> int:
        """Revoke the sessions matching `where`; how many."""
        async with self._session_factory() as s, s.begin():
            result = await s.execute(
                update(user_sessions).where(where).values(_revocation(now, reason)).returning(_S.id))
            return len(result.all())

    @staticmethod
    async def _update_session(s: AsyncSession, pk: int, values: dict[str, Any]) -> DeviceSession:
        row = (await s.execute(update(user_sessions).where(_S.id == pk).values(values).returning(*_SESSION))).one()
        return _session(row)
