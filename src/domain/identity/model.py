"""Users, roles and security audit entries of the identity context."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.identity.permissions import Grant, Permission, Scope, effective_grants

__all__ = ["AuditEntry", "Role", "User", "UserStatus"]


class UserStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"  # deactivated by an administrator: cannot log in, every session ended
    PENDING = "pending"  # invited: cannot log in until they set a password through the emailed link


@dataclass
class Role:
    """A role: a named set of grants; system roles are the built-in ones (never renamed or deleted)."""

    id: int | None
    name: str
    display_name: str
    grants: tuple[Grant, ...]
    description: str | None = None
    is_system: bool = False
    requires_mfa: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def scopes(self) -> dict[Permission, Scope]:
        """Each granted permission with its scope."""
        return effective_grants([self.grants])


@dataclass
class User:
    """An account of the renewal desk; secrets are stored hashed (the TOTP secret is needed in clear)."""

    id: int | None
    email: str
    password_hash: str
    first_name: str
    last_name: str
    role_id: int
    branch_id: int | None = None
    phone: str | None = None
    department: str | None = None
    job_title: str | None = None
    status: UserStatus = UserStatus.ACTIVE
    language: str = "en"
    avatar_url: str | None = None
    last_login: datetime | None = None
    mfa_enabled: bool = False
    mfa_secret: str | None = None  # set by MFA set-up, confirmed by enabling; cleared by disabling or reset
    mfa_last_step: int | None = None  # the last TOTP time step accepted: a code is refused on second use
    password_reset_token: str | None = None  # SHA-256 of the single-use reset token
    password_reset_expires: datetime | None = None
    password_changed_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.status is UserStatus.ACTIVE

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class AuditEntry:
    """One security or administration event for audit_log: who did what to which record, from where."""

    action: str  # past tense, dotted: "auth.login_failed", "role.updated", "access.denied"
    entity_type: str
    entity_id: int | None = None
    actor_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    ip_address: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    occurred_at: datetime | None = None  # set by the store from the clock when None
    id: int | None = None
