"""Who is calling: the authenticated user of one request, with the grants of their role right now."""

from __future__ import annotations

import msgspec

from application.identity.ports import TokenPurpose
from application.shared.visibility import Visibility
from domain.identity.permissions import Permission, Scope

__all__ = ["ClientInfo", "Principal"]


class ClientInfo(msgspec.Struct, frozen=True, kw_only=True):
    """Where a request came from, for sessions and the audit trail."""

    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    session_id: str
    purpose: TokenPurpose
    email: str
    branch_id: int | None
    role_id: int
    role_name: str
    grants: dict[Permission, Scope]
    requires_mfa: bool
    mfa_enabled: bool

    def scope_of(self, permission: Permission) -> Scope | None:
        """The scope at which the role grants `permission`, or None when it does not."""
        if self.purpose != "access":
            return None
        return self.grants.get(permission)

    def may(self, permission: Permission) -> bool:
        return self.scope_of(permission) is not None

    def visibility(self, permission: Permission) -> Visibility:
        """The records `permission` reaches for this caller; call only after the guard checked `may`."""
        scope = self.scope_of(permission)
        if scope is None:
            raise LookupError(f"{permission} is not granted")
        if scope is Scope.ALL:
            return Visibility(reach="all")
        return Visibility(reach=str(scope), user_id=self.user_id, branch_id=self.branch_id)  # type: ignore[arg-type]
