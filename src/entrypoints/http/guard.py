"""The guard on every route: each handler declares a permission, `signed_in()` or `public()` in its opt.

The app installs `authorize` as a global guard. It fails closed: a handler that declares nothing answers 403
to everyone (and the route-walk test names it). A valid token is checked against the session's current
state (Authenticator), then the permission against the role's current grants; the Principal is left in the
request state for the handler, whose read models apply the permission's scope in their SQL.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import WebSocketException
from litestar.handlers.base import BaseRouteHandler

from application.identity.audit import entry
from application.identity.errors import AuthenticationFailed, PermissionDenied
from application.identity.ports import TokenPurpose
from application.identity.principal import ClientInfo, Principal
from domain.identity.permissions import Permission
from entrypoints.container import AppContainer
from entrypoints.http.request_id import current_request_id

__all__ = [
    "PERMISSION", "PUBLIC", "authorize", "client_of", "permission_of", "principal_of", "public", "requires",
    "signed_in",
]

PUBLIC = "public"
PERMISSION = "permission"
_SIGNED_IN = "signed_in"
_PURPOSES = "purposes"


def requires(permission: Permission) -> dict[str, Any]:
    """opt for a route that needs `permission` (its scope then narrows the records it reaches)."""
    return {PERMISSION: permission}


def signed_in(*purposes: TokenPurpose) -> dict[str, Any]:
    """opt for a route any signed-in user may call about themselves (me, logout, sessions, MFA set-up)."""
    return {_SIGNED_IN: True, _PURPOSES: purposes or ("access",)}


def public() -> dict[str, Any]:
    """opt for a route without a token: login, refresh, password reset, health, webhooks, tracking."""
    return {PUBLIC: True}


def permission_of(handler: BaseRouteHandler) -> Permission | None:
    value = handler.opt.get(PERMISSION)
    return value if isinstance(value, Permission) else None


def is_guarded(handler: BaseRouteHandler) -> bool:
    return permission_of(handler) is not None or bool(handler.opt.get(_SIGNED_IN))


def client_of(connection: ASGIConnection[Any, Any, Any, Any]) -> ClientInfo:
    return ClientInfo(ip=connection.client.host if connection.client else None,
                      user_agent=connection.headers.get("user-agent"), request_id=current_request_id())


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if connection.scope["type"] == ScopeType.WEBSOCKET:  # browsers cannot send headers on a WebSocket
        return connection.query_params.get("token") or None
    return None


async def authorize(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    if connection.scope["type"] != ScopeType.WEBSOCKET:
        await _authorize(connection, handler)
        return
    # Litestar closes a WebSocket with 4500 "Internal Server Error" for any exception but its own (the app's
    # exception handlers are HTTP only): refuse the handshake with 4401 / 4403, the codes of 401 / 403
    try:
        await _authorize(connection, handler)
    except AuthenticationFailed as exc:
        raise WebSocketException(detail=str(exc)[:120], code=4401) from exc
    except PermissionDenied as exc:
        raise WebSocketException(detail=str(exc)[:120], code=4403) from exc


async def _authorize(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    if handler.opt.get(PUBLIC):
        return
    container: AppContainer = connection.app.state.container
    token = _bearer(connection)
    if token is None:
        raise AuthenticationFailed("Sign in: this endpoint needs a bearer access token", reason="missing")
    principal = await container.identity.authenticator().authenticate(token, handler.opt.get(_PURPOSES, ("access",)))
    connection.state.principal = principal
    permission = permission_of(handler)
    if permission is None and handler.opt.get(_SIGNED_IN):
        return
    if permission is None or not principal.may(permission):
        await container.identity.audit().record(entry(
            "access.denied", client_of(connection), actor_id=principal.user_id, entity_id=principal.user_id,
            permission=str(permission) if permission else "undeclared", path=connection.url.path,
            method=connection.scope.get("method")))
        raise PermissionDenied()


def principal_of(request: Request[Any, Any, Any]) -> Principal:
    """The dependency that hands the guard's Principal to a handler."""
    principal: Principal = request.state.principal
    return principal
