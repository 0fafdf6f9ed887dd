"""No privilege escalation: a caller may hand out only grants their own role holds at least as broadly."""

from __future__ import annotations

from collections.abc import Iterable

from application.identity.errors import PermissionDenied
from application.identity.principal import Principal
from domain.identity.permissions import Grant

__all__ = ["ensure_within"]


def ensure_within(actor: Principal, grants: Iterable[Grant]) -> None:
    """Raise PermissionDenied naming the first grant the actor does not hold as broadly."""
    for grant in grants:
        held = actor.grants.get(grant.permission)
        if held is None or not held.covers(grant.scope):
            raise PermissionDenied(f"You cannot grant '{grant.permission}' at scope '{grant.scope}': "
                                   "your own role does not hold it that broadly")
