"""Request bodies and list wrappers of the identity endpoints."""

from __future__ import annotations

from typing import Annotated

import msgspec

from application.identity.views import AuditView, PermissionView, RoleView, SessionView, UserView
from entrypoints.http.envelope import Pagination

__all__ = [
    "AuditList", "ForgotBody", "LoginBody", "LogoutBody", "MfaCodeBody", "MfaDisableBody", "MfaVerifyBody",
    "PasswordChangeBody", "PermissionList", "RecoveryCodes", "RefreshBody", "ResetBody", "RoleList",
    "SessionList", "UserList",
]

Email = Annotated[str, msgspec.Meta(max_length=320)]
Secret = Annotated[str, msgspec.Meta(max_length=1024)]  # longer than any valid password: refused before hashing
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class LoginBody(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    email: Email
    password: Secret


class MfaVerifyBody(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    challenge_token: Token
    code: Code  # a 6-digit TOTP code or a recovery code


class RefreshBody(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    refresh_token: Token


class LogoutBody(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    refresh_token: Token | None = None  # accepted for the frontend's convenience; the session is the token's


class PasswordChangeBody(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    current_password: Secret
    new_password: Secret


class ForgotBody(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    email: Email


class ResetBody(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    token: Token
    new_password: Secret


class MfaCodeBody(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    code: Code


class MfaDisableBody(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    password: Secret
    code: Code


class RecoveryCodes(msgspec.Struct, kw_only=True, rename="camel"):
    recovery_codes: list[str]


class SessionList(msgspec.Struct, kw_only=True):
    sessions: list[SessionView]


class UserList(msgspec.Struct, kw_only=True):
    users: list[UserView]
    pagination: Pagination


class RoleList(msgspec.Struct, kw_only=True):
    roles: list[RoleView]


class PermissionList(msgspec.Struct, kw_only=True):
    permissions: list[PermissionView]


class AuditList(msgspec.Struct, kw_only=True):
    entries: list[AuditView]
    pagination: Pagination
