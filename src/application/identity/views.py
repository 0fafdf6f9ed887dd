"""What the identity use cases answer, as msgspec structs with camelCase names."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from domain.identity.model import AuditEntry, Role, User
from domain.identity.pages import pages_for
from domain.identity.permissions import Permission, Scope
from domain.identity.sessions import DeviceSession
from domain.shared.ids import BranchId, RoleId, UserId

__all__ = [
    "AuditView", "GrantView", "LoginResult", "MeView", "MfaSetupView", "PermissionView", "RoleView",
    "SessionView", "TokenPair", "UserView", "grant_views",
]


class GrantView(msgspec.Struct, frozen=True, kw_only=True):
    permission: str
    scope: str


def grant_views(grants: dict[Permission, Scope]) -> list[GrantView]:
    return [GrantView(permission=str(p), scope=str(s)) for p, s in grants.items()]


class UserView(msgspec.Struct, kw_only=True, rename="camel"):
    id: UserId
    email: str
    name: str
    first_name: str
    last_name: str
    phone: str | None
    department: str | None
    job_title: str | None
    role: str
    role_id: RoleId
    branch_id: BranchId | None
    status: str
    language: str
    last_login: datetime | None
    mfa_enabled: bool
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, user: User, role: Role | None) -> UserView:
        assert user.id is not None
        return cls(
            id=UserId(user.id), email=user.email, name=user.full_name, first_name=user.first_name,
            last_name=user.last_name, phone=user.phone, department=user.department, job_title=user.job_title,
            role=role.name if role else "", role_id=RoleId(user.role_id),
            branch_id=BranchId(user.branch_id) if user.branch_id else None, status=str(user.status),
            language=user.language, last_login=user.last_login, mfa_enabled=user.mfa_enabled,
            created_at=user.created_at, updated_at=user.updated_at)


class MeView(UserView, kw_only=True, rename="camel"):
    """The signed-in user with what they may do: action grants with scopes, and the frontend pages they open."""

    role_display_name: str
    requires_mfa: bool
    permissions: list[GrantView]
    pages: list[str]

    @classmethod
    def of(cls, user: User, role: Role | None) -> MeView:
        grants = role.scopes() if role else {}
        base = msgspec.structs.asdict(UserView.of(user, role))
        return cls(**base, role_display_name=role.display_name if role else "",
                   requires_mfa=bool(role and role.requires_mfa), permissions=grant_views(grants),
                   pages=pages_for(grants))


class TokenPair(msgspec.Struct, kw_only=True, rename="camel"):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


class LoginResult(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """Tokens and the user; or `mfaRequired` with a challenge token; or `mfaSetupRequired` with a token that
    opens only the MFA set-up endpoints (the user's role requires MFA and they have none yet)."""

    access_token: str | None = None
    refresh_token: str | None = None
    token_type: str | None = None
    expires_in: int | None = None
    user: MeView | None = None
    mfa_required: bool = False
    challenge_token: str | None = None
    mfa_setup_required: bool = False


class SessionView(msgspec.Struct, kw_only=True, rename="camel"):
    id: str
    user_agent: str | None
    ip_address: str | None
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    current: bool

    @classmethod
    def of(cls, session: DeviceSession, current_id: str) -> SessionView:
        return cls(id=session.id, user_agent=session.user_agent, ip_address=session.ip_address,
                   created_at=session.created_at, last_used_at=session.last_used_at,
                   expires_at=session.expires_at, current=session.id == current_id)


class MfaSetupView(msgspec.Struct, kw_only=True, rename="camel"):
    secret: str
    otpauth_uri: str
    qr_svg: str  # an SVG document; the frontend can inline it or use it as a data: URI


class RoleView(msgspec.Struct, kw_only=True, rename="camel"):
    id: RoleId
    name: str
    display_name: str
    description: str | None
    permissions: dict[str, str]  # as roles.permissions stores it: permission -> scope
    is_system: bool
    requires_mfa: bool
    user_count: int
    pages: list[str]
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, role: Role, user_count: int) -> RoleView:
        assert role.id is not None
        scopes = role.scopes()
        return cls(id=RoleId(role.id), name=role.name, display_name=role.display_name,
                   description=role.description, permissions={str(p): str(s) for p, s in scopes.items()},
                   is_system=role.is_system, requires_mfa=role.requires_mfa, user_count=user_count,
                   pages=pages_for(scopes), created_at=role.created_at, updated_at=role.updated_at)


class PermissionView(msgspec.Struct, kw_only=True, rename="camel"):
    permission: str
    area: str
    action: str
    scoped: bool  # whether a grant may narrow it to `own` or `branch`
    scopes: list[str]
    pages: list[str]


class AuditView(msgspec.Struct, kw_only=True, rename="camel"):
    id: int
    occurred_at: datetime | None
    action: str
    actor_id: UserId | None
    entity_type: str
    entity_id: int | None
    data: dict[str, Any]
    ip_address: str | None
    user_agent: str | None
    request_id: str | None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditView:
        return cls(id=entry.id or 0, occurred_at=entry.occurred_at, action=entry.action,
                   actor_id=UserId(entry.actor_id) if entry.actor_id else None, entity_type=entry.entity_type,
                   entity_id=entry.entity_id, data=entry.data, ip_address=entry.ip_address,
                   user_agent=entry.user_agent, request_id=entry.request_id)
