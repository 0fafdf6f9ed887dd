"""Dependencies of the identity controllers: services from the container, caller and client details."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from application.identity.principal import ClientInfo
from entrypoints.http.deps import container_of
from entrypoints.http.guard import client_of, principal_of

__all__ = ["IDENTITY_DEPENDENCIES"]


def _client(request: Request[Any, Any, Any]) -> ClientInfo:
    return client_of(request)


def _identity_service(name: str) -> Provide:
    """Provide the identity container's service `name` (handlers name its type with NamedDependency)."""
    def provide(state: State) -> Any:
        return getattr(container_of(state).identity, name)()
    return Provide(provide, sync_to_thread=False)


IDENTITY_DEPENDENCIES = {
    "client": Provide(_client, sync_to_thread=False),
    "principal": Provide(principal_of, sync_to_thread=False),
    **{name: _identity_service(name) for name in ("auth", "mfa", "passwords", "users", "roles", "audit")},
}
