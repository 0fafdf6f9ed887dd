"""The SQL principal source: a session with its user and role, read in one statement per request."""

from __future__ import annotations

import json

from sqlalchemy import bindparam, select

from adapters.asyncpg.read_pool import AsyncpgReadPool
from adapters.sqlalchemy.listing import CompiledQuery
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
    .where(_S.public_id == bindparam("session_id"))
)


class SqlAlchemyPrincipalSource:
    """Runs on every authenticated request: compiled once, executed straight on the asyncpg read pool."""

    def __init__(self, pool: AsyncpgReadPool) -> None:
        self._pool = pool
        self._query = CompiledQuery(_LOAD)

    async def load(self, session_id: str) -> PrincipalRecord | None:
        async with self._pool.acquire() as conn:
            rows = await self._query.fetch(conn, {"session_id": session_id})
        if not rows:
            return None
        row = rows[0]
        permissions = row["permissions"]
        if isinstance(permissions, str):  # JSONB arrives as text unless the pool registered a codec
            permissions = json.loads(permissions)
        return PrincipalRecord(
            session_id=row["public_id"], session_version=row["version"],
            session_revoked=row["revoked_at"] is not None, session_expires_at=row["expires_at"],
            user_id=row["user_id"], user_active=row["status"] == UserStatus.ACTIVE, email=row["email"],
            branch_id=row["branch_id"], role_id=row["role_id"] or 0, role_name=row["role_name"] or "",
            permissions=dict(permissions or {}), requires_mfa=bool(row["requires_mfa"]),
            mfa_enabled=row["mfa_enabled"])
