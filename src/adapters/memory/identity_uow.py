"""The identity context's in-memory unit of work and principal source."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from adapters.memory.identity import InMemoryAuditTrail, InMemoryRoleRepository, InMemoryUserRepository
from adapters.memory.session_store import InMemorySessionStore
from adapters.memory.store import AuditRecord, MemoryStore, OutboxRow
from adapters.memory.uow import InMemoryOutbox
from application.identity.repositories import PrincipalRecord
from application.shared.events import EventRouter
from domain.identity.model import UserStatus
from domain.identity.permissions import grants_to_json
from domain.shared.events import EventRecorder

__all__ = ["InMemoryIdentityUnitOfWork", "InMemoryPrincipalSource"]


class InMemoryIdentityUnitOfWork:
    """Staged writes checked (unique keys, references) and applied together on commit, dropped otherwise."""

    users: InMemoryUserRepository
    roles: InMemoryRoleRepository
    audit: InMemoryAuditTrail
    outbox: InMemoryOutbox

    def __init__(self, store: MemoryStore, router: EventRouter) -> None:
        self._store = store
        self._router = router
        self._seen: list[EventRecorder] = []
        self.committed = False

    async def __aenter__(self) -> Self:
        self.roles = InMemoryRoleRepository(self._store, in_use=self._role_in_use)
        self.users = InMemoryUserRepository(self._store, self.roles)
        self.audit = InMemoryAuditTrail(self._store)
        self.outbox = InMemoryOutbox(self._store)
        self._seen = []
        self.committed = False
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._discard()  # whatever was not committed (nothing is left staged after a commit)
        self.outbox.release()

    def _role_in_use(self, role_id: int) -> bool:
        return any(user.role_id == role_id for user in self.users.visible().values())

    def track(self, aggregate: EventRecorder) -> None:
        self._seen.append(aggregate)

    async def commit(self) -> None:
        events = [event for aggregate in self._seen for event in aggregate.pull_events()]
        for job in self._router.jobs_for(events):
            self.outbox.add(job)
        # check every staged key and reference before applying anything: all or nothing
        final_roles = self.roles.visible()
        final_users = self.users.visible()
        self.users.check_commit(final_roles)
        self.roles.check_commit(final_users.values())
        self.audit.check_commit(set(final_users))
        self.roles.apply()
        self.users.apply()
        self.audit.apply()
        tables = self._store.tables
        for job in self.outbox.pending:
            row_id = self._store.next_value("outbox")
            tables.outbox[row_id] = OutboxRow(id=row_id, job=job)
        now = self._store.now()
        for row_id in self.outbox.relayed:
            tables.outbox[row_id].relayed_at = now
        tables.audit.extend(AuditRecord(e.name, e.entity_type, e.entity_id, e.payload()) for e in events)
        self.outbox.pending, self.outbox.relayed = [], []
        self._reset()
        self.committed = True

    async def rollback(self) -> None:
        self._discard()

    def _discard(self) -> None:
        self.users.discard()
        self._reset()
        self.outbox.pending, self.outbox.relayed = [], []

    def _reset(self) -> None:
        self.users.undo, self.users.staged, self.users.staged_codes = [], {}, {}
        self.roles.staged, self.roles.deleted = {}, set()
        self.audit.pending = []
        self._seen = []


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
