"""The SQL principal source: a session with its user and role, read in one statement per request."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.tables.identity import roles, user_sessions, users
from application.identity.repositories import PrincipalRecord
from domain.identity.model import UserStatus

__all__ = ["SqlAlchemyPrincipalSource"]

_S = user_sessions.c
_U = users.c
_R = roles.c

# A user without a role (users.role_id is nullable) gets role id 0, no name and no permissions.
_LOAD = (
    select(_S.public_id, _S.version, _S.revoked_at, _S.expires_at,
           _U.id.label("user_id"), _U.status, _U.email, _U.branch_id, _U.mfa_enabled,
           _R.id.label("role_id"), _R.name.label("role_name"), _R.permissions, _R.requires_mfa)
    .select_from(user_sessions.join(users, _U.id == _S.user_id).outerjoin(roles, _R.id == _U.role_id))
)


class SqlAlchemyPrincipalSource:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def load(self, session_id: str) -> PrincipalRecord | None:
        async with self._session_factory() as s:
            row = (await s.execute(_LOAD.where(_S.public_id == session_id))).one_or_none()
        if row is None:
            return None
        return PrincipalRecord(
            session_id=row.public_id, session_version=row.version, session_revoked=row.revoked_at is not None,
            session_expires_at=row.expires_at, user_id=row.user_id, user_active=row.status == UserStatus.ACTIVE,
            email=row.email, branch_id=row.branch_id, role_id=row.role_id or 0, role_name=row.role_name or "",
            permissions=dict(row.permissions or {}), requires_mfa=bool(row.requires_mfa),
            mfa_enabled=row.mfa_enabled)
