"""In-memory twins of the identity repositories, with the SQL adapters' keys, references and atomic statements.

Writes are staged in the unit and applied by its commit, all or nothing. The three atomic statements (TOTP step
claim, reset-token take, recovery-code use) change the committed rows at once, as PostgreSQL's row lock makes
them final for every other unit, and are undone when the unit ends without a commit.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from adapters.memory.store import MemoryStore, RecoveryCodeRow
from application.identity.repositories import AuditFilters, UserFilters
from application.shared.pagination import Page, PageRequest, SortKey
from domain.identity.model import AuditEntry, Role, User, UserStatus
from domain.identity.sessions import IP_ADDRESS_MAX, USER_AGENT_MAX, clip
from domain.shared.errors import Conflict, NotFound, ValidationFailed

__all__ = ["InMemoryAuditTrail", "InMemoryRoleRepository", "InMemoryUserRepository"]

V = TypeVar("V")
_USER_SORT: dict[str, Callable[[User], Any]] = {
    "id": lambda u: u.id, "email": lambda u: u.email, "firstName": lambda u: u.first_name,
    "lastName": lambda u: u.last_name, "createdAt": lambda u: u.created_at, "lastLogin": lambda u: u.last_login,
}
_DEFAULT_USER_SORT = (SortKey("lastName"), SortKey("firstName"))
_AUDIT_SORT: dict[str, Callable[[AuditEntry], Any]] = {"occurredAt": lambda e: e.occurred_at, "id": lambda e: e.id}
_DEFAULT_AUDIT_SORT = (SortKey("occurredAt", descending=True),)


def _paginate(items: Iterable[V], page: PageRequest, default: tuple[SortKey, ...],
              keys: dict[str, Callable[[V], Any]]) -> Page[V]:
    """PostgreSQL's order: NULLs last ascending and first descending, then the id in the last key's direction."""
    sort = page.sort or default
    for key in sort:
        if key.field not in keys:
            raise ValidationFailed.on("sort", f"cannot sort by '{key.field}'; allowed: {', '.join(keys)}")
    ordered = sorted(items, key=keys["id"], reverse=sort[-1].descending)
    for key in reversed(sort):
        getter = keys[key.field]
        ordered.sort(key=lambda v: (getter(v) is None, getter(v)), reverse=key.descending)
    chunk = [copy.deepcopy(v) for v in ordered[page.offset:page.offset + page.limit]]
    return Page(items=chunk, page=page.page, limit=page.limit, total=len(ordered))


def greatest(a: int | None, b: int | None) -> int | None:
    """SQL GREATEST: the larger value, ignoring NULLs."""
    values = [v for v in (a, b) if v is not None]
    return max(values) if values else None


def _taken(field: str) -> Conflict:
    return Conflict(f"{field} is already taken", field=field)


class InMemoryRoleRepository:
    def __init__(self, store: MemoryStore, in_use: Callable[[int], bool]) -> None:
        self._store = store
        self._in_use = in_use  # whether any user (committed or staged) has the role
        self.staged: dict[int, Role] = {}
        self.deleted: set[int] = set()

    def visible(self) -> dict[int, Role]:
        merged = {**self._store.tables.roles, **self.staged}
        return {k: v for k, v in merged.items() if k not in self.deleted}

    async def get(self, role_id: int) -> Role | None:
        return copy.deepcopy(self.visible().get(role_id))

    async def get_by_name(self, name: str) -> Role | None:
        return copy.deepcopy(next((r for r in self.visible().values() if r.name == name), None))

    async def list(self) -> list[Role]:
        return copy.deepcopy(sorted(self.visible().values(), key=lambda r: (not r.is_system, r.name, r.id)))

    @staticmethod
    def _check(role: Role, others: Iterable[Role]) -> None:
        if any(other.id != role.id and other.name == role.name for other in others):
            raise _taken("name")

    async def add(self, role: Role) -> Role:
        self._check(role, self.visible().values())
        role.id = self._store.next_value("roles.id")
        role.created_at = role.updated_at = self._store.now()
        self.staged[role.id] = copy.deepcopy(role)
        return role

    async def save(self, role: Role) -> None:
        if role.id is None or role.id not in self.visible():
            raise NotFound("role", role.id)
        self._check(role, self.visible().values())
        role.updated_at = self._store.now()
        self.staged[role.id] = copy.deepcopy(role)

    async def delete(self, role_id: int) -> None:
        if role_id not in self.visible():
            return
        if self._in_use(role_id):
            raise Conflict("the role is still assigned to users", field="roleId")
        self.staged.pop(role_id, None)
        self.deleted.add(role_id)

    def check_commit(self, final_users: Iterable[User]) -> None:
        committed = [r for k, r in self._store.tables.roles.items() if k not in self.deleted]
        for role in self.staged.values():
            self._check(role, committed)
        if any(u.role_id in self.deleted for u in final_users):
            raise Conflict("the role is still assigned to users", field="roleId")

    def apply(self) -> None:
        table = self._store.tables.roles
        for role_id in self.deleted:
            table.pop(role_id, None)
        table.update(self.staged)


class InMemoryUserRepository:
    def __init__(self, store: MemoryStore, roles: InMemoryRoleRepository) -> None:
        self._store = store
        self._roles = roles
        self.staged: dict[int, User] = {}
        self.staged_codes: dict[int, list[RecoveryCodeRow]] = {}  # user id -> the codes replacing theirs
        self.undo: list[Callable[[], None]] = []  # reverts the atomic statements' changes to committed rows

    def visible(self) -> dict[int, User]:
        return {**self._store.tables.users, **self.staged}

    async def get(self, user_id: int) -> User | None:
        return copy.deepcopy(self.visible().get(user_id))

    async def get_by_email(self, email: str) -> User | None:
        return copy.deepcopy(next((u for u in self.visible().values() if u.email == email), None))

    def _check(self, user: User, others: Iterable[User], roles: dict[int, Role]) -> None:
        if any(other.id != user.id and other.email == user.email for other in others):
            raise _taken("email")
        if user.role_id not in roles:
            raise ValidationFailed.on("roleId", "does not exist")
        if user.branch_id is not None and user.branch_id not in self._store.tables.branches:
            raise ValidationFailed.on("branchId", "does not exist")

    async def add(self, user: User) -> User:
        self._check(user, self.visible().values(), self._roles.visible())
        user.id = self._store.next_value("users.id")
        user.created_at = user.updated_at = self._store.now()
        self.staged[user.id] = copy.deepcopy(user)
        return user

    async def save(self, user: User) -> None:
        """Every field; `mfa_last_step` never moves back (as SQL's GREATEST), so a stale copy cannot undo a claim."""
        current = self.visible().get(user.id) if user.id is not None else None
        if current is None:
            raise NotFound("user", user.id)
        self._check(user, self.visible().values(), self._roles.visible())
        user.mfa_last_step = greatest(current.mfa_last_step, user.mfa_last_step)
        user.updated_at = self._store.now()
        assert user.id is not None
        self.staged[user.id] = copy.deepcopy(user)

    async def count_with_role(self, role_id: int, *, active_only: bool = False) -> int:
        return sum(1 for u in self.visible().values()
                   if u.role_id == role_id and (not active_only or u.status == UserStatus.ACTIVE))

    async def branch_exists(self, branch_id: int) -> bool:
        return branch_id in self._store.tables.branches

    def _set(self, user_id: int, **changes: Any) -> None:
        """Change a user at once: the committed row (undone unless the unit commits) and any staged copy."""
        row = self._store.tables.users.get(user_id)
        if row is not None:
            before = {name: getattr(row, name) for name in changes}

            def revert() -> None:
                if all(getattr(row, name) == value for name, value in changes.items()):
                    for name, value in before.items():
                        setattr(row, name, value)

            for name, value in changes.items():
                setattr(row, name, value)
            self.undo.append(revert)
        staged = self.staged.get(user_id)
        if staged is not None:
            for name, value in changes.items():
                setattr(staged, name, value)

    async def claim_totp_step(self, user_id: int, step: int) -> bool:
        user, row = self.visible().get(user_id), self._store.tables.users.get(user_id)
        last = greatest(user.mfa_last_step if user else None, row.mfa_last_step if row else None)
        if user is None or (last is not None and last >= step):
            return False
        self._set(user_id, mfa_last_step=step)
        return True

    async def take_reset_token(self, token_hash: str, now: datetime) -> int | None:
        for user in self.visible().values():
            expires = user.password_reset_expires
            if user.password_reset_token == token_hash and expires is not None and expires > now:
                assert user.id is not None
                self._set(user.id, password_reset_token=None, password_reset_expires=None)
                return user.id
        return None

    def _codes(self, user_id: int) -> list[RecoveryCodeRow]:
        if user_id in self.staged_codes:
            return self.staged_codes[user_id]
        return [row for row in self._store.tables.recovery_codes if row.user_id == user_id]

    async def replace_recovery_codes(self, user_id: int, code_hashes: list[str], now: datetime) -> None:
        if user_id not in self.visible():
            raise ValidationFailed.on("userId", "does not exist")
        self.staged_codes[user_id] = [RecoveryCodeRow(user_id, code, now) for code in dict.fromkeys(code_hashes)]

    async def unused_recovery_codes(self, user_id: int) -> list[str]:
        return [row.code_hash for row in self._codes(user_id) if row.used_at is None]

    async def use_recovery_code(self, user_id: int, code_hash: str, now: datetime) -> bool:
        row = next((r for r in self._codes(user_id) if r.code_hash == code_hash and r.used_at is None), None)
        if row is None:
            return False
        row.used_at = now
        if user_id not in self.staged_codes:  # a committed row
            found = row

            def revert() -> None:
                if found.used_at == now:
                    found.used_at = None

            self.undo.append(revert)
        return True

    def check_commit(self, roles: dict[int, Role]) -> None:
        committed = self._store.tables.users.values()
        for user in self.staged.values():
            self._check(user, committed, roles)

    def apply(self) -> None:
        table = self._store.tables.users
        for user_id, user in self.staged.items():
            current = table.get(user_id)
            if current is not None:  # a claim committed meanwhile is kept
                user.mfa_last_step = greatest(current.mfa_last_step, user.mfa_last_step)
            table[user_id] = user
        if self.staged_codes:
            kept = [r for r in self._store.tables.recovery_codes if r.user_id not in self.staged_codes]
            self._store.tables.recovery_codes = kept + [r for rows in self.staged_codes.values() for r in rows]

    def discard(self) -> None:
        for revert in reversed(self.undo):
            revert()
        self.undo, self.staged, self.staged_codes = [], {}, {}

    async def list(self, filters: UserFilters, page: PageRequest) -> Page[User]:
        q = (filters.q or "").strip().lower()
        found = [u for u in self.visible().values()
                 if (not q or any(q in text.lower() for text in (u.email, u.first_name, u.last_name)))
                 and (not filters.role_id or u.role_id in filters.role_id)
                 and (not filters.branch_id or u.branch_id in filters.branch_id)
                 and (not filters.status or u.status in filters.status)]
        return _paginate(found, page, _DEFAULT_USER_SORT, _USER_SORT)


class InMemoryAuditTrail:
    """Lists the committed entries of this port; the memory units' domain-event records live in `tables.audit`."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.pending: list[AuditEntry] = []

    def add(self, entry: AuditEntry) -> None:
        self.pending.append(entry if entry.occurred_at is not None
                            else dataclasses.replace(entry, occurred_at=self._store.now()))

    async def list(self, filters: AuditFilters, page: PageRequest) -> Page[AuditEntry]:
        found = [e for e in self._store.tables.security_audit if _matches(e, filters)]
        return _paginate(found, page, _DEFAULT_AUDIT_SORT, _AUDIT_SORT)

    def check_commit(self, user_ids: set[int]) -> None:
        if any(e.actor_id is not None and e.actor_id not in user_ids for e in self.pending):
            raise ValidationFailed.on("actorId", "does not exist")

    def apply(self) -> None:
        self._store.tables.security_audit.extend(
            dataclasses.replace(e, id=self._store.next_value("audit_log.id"),
                                ip_address=clip(e.ip_address, IP_ADDRESS_MAX),
                                user_agent=clip(e.user_agent, USER_AGENT_MAX), request_id=clip(e.request_id, 64))
            for e in self.pending)
        self.pending = []


def _matches(entry: AuditEntry, filters: AuditFilters) -> bool:
    assert entry.occurred_at is not None
    if filters.action and not any(entry.action.startswith(a) if a.endswith(".") else entry.action == a
                                  for a in filters.action):
        return False
    return ((not filters.actor_id or entry.actor_id in filters.actor_id)
            and (not filters.entity_type or entry.entity_type in filters.entity_type)
            and (filters.entity_id is None or entry.entity_id == filters.entity_id)
            and (filters.occurred_from is None or entry.occurred_at >= filters.occurred_from)
            and (filters.occurred_to is None or entry.occurred_at < filters.occurred_to))
