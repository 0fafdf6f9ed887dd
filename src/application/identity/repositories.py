"""Persistence ports of the identity context: users, roles, recovery codes, the audit trail, the principal."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Protocol

import msgspec

from application.ports.uow import UnitOfWork
from application.shared.pagination import Page, PageRequest
from domain.identity.model import AuditEntry, Role, User

__all__ = [
    "AuditFilters",
    "AuditTrail",
    "IdentityUnitOfWork",
    "PrincipalRecord",
    "PrincipalSource",
    "RoleRepository",
    "UserFilters",
    "UserRepository",
]


class UserFilters(msgspec.Struct, frozen=True, kw_only=True):
    q: str | None = None  # matches email, first or last name (case-insensitive substring)
    role_id: tuple[int, ...] = ()
    branch_id: tuple[int, ...] = ()
    status: tuple[str, ...] = ()


class AuditFilters(msgspec.Struct, frozen=True, kw_only=True):
    actor_id: tuple[int, ...] = ()
    action: tuple[str, ...] = ()  # exact actions, or a prefix ending in "." such as "auth."
    entity_type: tuple[str, ...] = ()
    entity_id: int | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None  # exclusive


class UserRepository(Protocol):
    async def get(self, user_id: int) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None:
        """The user whose stored (normalised, lower-case) email equals `email`."""
        ...

    async def add(self, user: User) -> User:
        """Insert and return the user with its id and timestamps; Conflict on field `email` when taken."""
        ...

    async def save(self, user: User) -> None:
        """Write every field of an existing user and bump updated_at; Conflict on `email` when taken."""
        ...

    async def list(self, filters: UserFilters, page: PageRequest) -> Page[User]:
        """Sortable by id, email, firstName, lastName, createdAt, lastLogin (default: lastName, firstName, id)."""
        ...

    async def count_with_role(self, role_id: int, *, active_only: bool = False) -> int: ...

    async def branch_exists(self, branch_id: int) -> bool: ...

    async def claim_totp_step(self, user_id: int, step: int) -> bool:
        """Atomically record `step` as the user's last accepted TOTP step, only if it is later than the one
        stored: of two requests with the same code, at most one gets True."""
        ...

    async def take_reset_token(self, token_hash: str, now: datetime) -> int | None:
        """Atomically clear an unexpired reset token with this hash and return its user's id (single use)."""
        ...

    async def replace_recovery_codes(self, user_id: int, code_hashes: builtins.list[str], now: datetime) -> None:
        """Drop the user's recovery codes and store these (hashed) ones."""
        ...

    async def unused_recovery_codes(self, user_id: int) -> builtins.list[str]:
        """Hashes of the user's recovery codes not used yet."""
        ...

    async def use_recovery_code(self, user_id: int, code_hash: str, now: datetime) -> bool:
        """Atomically mark an unused code used; False when it is unknown or was used (by a racing request)."""
        ...


class RoleRepository(Protocol):
    async def get(self, role_id: int) -> Role | None: ...
    async def get_by_name(self, name: str) -> Role | None: ...

    async def list(self) -> builtins.list[Role]:
        """Every role, system roles first, then by name."""
        ...

    async def add(self, role: Role) -> Role:
        """Insert and return with id and timestamps; Conflict on field `name` when taken."""
        ...

    async def save(self, role: Role) -> None: ...

    async def delete(self, role_id: int) -> None: ...


class AuditTrail(Protocol):
    def add(self, entry: AuditEntry) -> None:
        """Buffer an entry; it is written with the unit's commit (occurred_at from the clock when unset)."""
        ...

    async def list(self, filters: AuditFilters, page: PageRequest) -> Page[AuditEntry]:
        """Newest first (sort keys: occurredAt, id)."""
        ...


class IdentityUnitOfWork(UnitOfWork, Protocol):
    users: UserRepository
    roles: RoleRepository
    audit: AuditTrail


class PrincipalRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the request guard needs about a session, its user and role, read in one query."""

    session_id: str
    session_version: int
    session_revoked: bool
    session_expires_at: datetime
    user_id: int
    user_active: bool
    email: str
    branch_id: int | None
    role_id: int
    role_name: str
    permissions: dict[str, str]  # roles.permissions as stored
    requires_mfa: bool
    mfa_enabled: bool


class PrincipalSource(Protocol):
    """Loads the current truth about a session for every authenticated request (no cache to go stale)."""

    async def load(self, session_id: str) -> PrincipalRecord | None:
        """The session with its user and role, or None when there is no such session."""
        ...
