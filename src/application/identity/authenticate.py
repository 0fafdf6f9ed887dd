"""Turns a bearer token into a Principal, checking the session's current state on every request.

A valid signature is not enough. The session is read with its user and role in one indexed query
(PrincipalSource) on every request: a revoked or expired session, a session whose version moved on (logout,
logout-all, password change, MFA reset), a deactivated user, or a role whose grants changed all take effect on
the very next request, with no cache to invalidate.
"""

from __future__ import annotations

from collections.abc import Iterable

from application.identity.errors import AuthenticationFailed
from application.identity.ports import AccessTokenIssuer, InvalidToken, TokenPurpose
from application.identity.principal import Principal
from application.identity.repositories import PrincipalSource
from domain.identity.permissions import Permission, Scope
from domain.shared.clock import Clock

__all__ = ["Authenticator"]

_EXPIRED = "Your session has ended; sign in again"


class Authenticator:
    def __init__(self, *, tokens: AccessTokenIssuer, principals: PrincipalSource, clock: Clock) -> None:
        self._tokens = tokens
        self._principals = principals
        self._clock = clock

    async def authenticate(self, token: str, purposes: Iterable[TokenPurpose] = ("access",)) -> Principal:
        """The caller behind `token` if it is valid for one of `purposes` and its session is live."""
        claims = None
        reason = "malformed"
        for purpose in purposes:
            try:
                claims = self._tokens.verify(token, purpose=purpose)
                break
            except InvalidToken as invalid:
                reason = invalid.reason
        if claims is None:
            raise AuthenticationFailed("The access token is missing, invalid or expired", reason=reason)
        record = await self._principals.load(claims.session_id)
        if (record is None or record.user_id != claims.user_id or record.session_revoked
                or record.session_version != claims.session_version
                or self._clock.now() >= record.session_expires_at):
            raise AuthenticationFailed(_EXPIRED, reason="session_ended")
        if not record.user_active:
            raise AuthenticationFailed(_EXPIRED, reason="user_inactive")
        if claims.purpose == "access" and record.requires_mfa and not record.mfa_enabled:
            raise AuthenticationFailed(_EXPIRED, reason="mfa_required")  # MFA was reset since the login
        grants: dict[Permission, Scope] = {}
        for key, scope in record.permissions.items():
            try:
                grants[Permission(key)] = Scope(scope)
            except ValueError:
                continue  # a permission retired from the catalogue grants nothing
        return Principal(
            user_id=record.user_id, session_id=record.session_id, purpose=claims.purpose, email=record.email,
            branch_id=record.branch_id, role_id=record.role_id, role_name=record.role_name, grants=grants,
            requires_mfa=record.requires_mfa, mfa_enabled=record.mfa_enabled)
