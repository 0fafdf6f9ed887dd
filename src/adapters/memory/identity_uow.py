"""The identity context's in-memory unit of work and principal source."""

from __future__ import annotations

from datetime import datetime

from adapters.memory.identity import InMemoryAuditTrail, InMemoryRoleRepository, InMemoryUserRepository
from adapters.memory.session_store import InMemorySessionStore
from adapters.memory.store import MemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWorkBase
from application.identity.repositories import PrincipalRecord
from domain.identity.model import UserStatus
from domain.identity.permissions import grants_to_json

__all__ = ["InMemoryIdentityUnitOfWork", "InMemoryPrincipalSource"]


class InMemoryIdentityUnitOfWork(InMemoryUnitOfWorkBase):
    """Staged writes checked (unique keys, references) and applied together on commit, dropped otherwise."""

    users: InMemoryUserRepository
    roles: InMemoryRoleRepository
    audit: InMemoryAuditTrail

    def _open(self) -> None:
        self.roles = InMemoryRoleRepository(self._store, in_use=self._role_in_use)
        self.users = InMemoryUserRepository(self._store, self.roles)
        self.audit = InMemoryAuditTrail(self._store)

    def _role_in_use(self, role_id: int) -> bool:
        return any(user.role_id == role_id for user in self.users.visible().values())

    def _check(self) -> None:
        final_roles = self.roles.visible()
        final_users = self.users.visible()
        self.users.check_commit(final_roles)
        self.roles.check_commit(final_users.values())
        self.audit.check_commit(set(final_users))

    def _apply(self, now: datetime) -> None:
        self.roles.apply()
        self.users.apply()
        self.audit.apply()

    def _clear_staged(self) -> None:
        self.users.undo, self.users.staged, self.users.staged_codes = [], {}, {}
        self.roles.staged, self.roles.deleted = {}, set()
        self.audit.pending = []

    def _discard(self) -> None:
        self.users.discard()  # reverts the atomic statements' changes to committed rows
        self._reset()


class InMemoryPrincipalSource:
    """The session from the session store, with the committed user and role (role id 0 when it has none)."""

    def __init__(self, store: MemoryStore, sessions: InMemorySessionStore) -> None:
        self._store = store
        self._sessions = sessions

    async def load(self, session_id: str) -> PrincipalRecord | None:
        session = await self._sessions.get(session_id)
        if session is None:
            return None
        user = self._store.tables.users.get(session.user_id)
        if user is None:
            return None
        role = self._store.tables.roles.get(user.role_id)
        assert user.id is not None
        return PrincipalRecord(
            session_id=session.id, session_version=session.version, session_revoked=session.revoked_at is not None,
            session_expires_at=session.expires_at, user_id=user.id, user_active=user.status == UserStatus.ACTIVE,
            email=user.email, branch_id=user.branch_id, role_id=(role.id or 0) if role else 0,
            role_name=role.name if role else "", permissions=grants_to_json(role.grants) if role else {},
            requires_mfa=role.requires_mfa if role else False, mfa_enabled=user.mfa_enabled)
