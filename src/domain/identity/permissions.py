"""Action permissions, their scopes and the grants a role stores in roles.permissions (JSONB)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.shared.errors import FieldError, ValidationFailed

__all__ = [
    "SCOPED", "Grant", "Permission", "Scope", "broadest", "effective_grants", "grants_to_json", "parse_grants",
]


class Permission(StrEnum):
    """An action a role can be granted; the value is the key stored in roles.permissions."""

    # identity and administration
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    ROLES_MANAGE = "roles:manage"
    SETTINGS_MANAGE = "settings:manage"  # system settings, providers and branches (GET/POST/PATCH /api/branches)
    AUDIT_READ = "audit:read"
    # the policy book
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    POLICIES_READ = "policies:read"
    POLICIES_WRITE = "policies:write"
    # renewal cases (scoped: assigned user, policy branch)
    CASES_READ = "cases:read"
    CASES_WRITE = "cases:write"
    CASES_ASSIGN = "cases:assign"
    CASES_ESCALATE = "cases:escalate"
    # policy-book uploads (scoped: uploader, uploader's branch)
    UPLOADS_CREATE = "uploads:create"
    UPLOADS_READ = "uploads:read"
    # outbound communication
    TEMPLATES_READ = "templates:read"
    TEMPLATES_WRITE = "templates:write"
    MESSAGES_SEND = "messages:send"
    CAMPAIGNS_READ = "campaigns:read"
    CAMPAIGNS_WRITE = "campaigns:write"
    CAMPAIGNS_LAUNCH = "campaigns:launch"
    # inbound email and WhatsApp conversations (scoped: assignee, branch)
    INBOX_READ = "inbox:read"
    INBOX_REPLY = "inbox:reply"
    INBOX_MANAGE = "inbox:manage"
    # AI assistant
    AI_USE = "ai:use"
    AI_CONFIGURE = "ai:configure"
    # surveys and feedback
    SURVEYS_READ = "surveys:read"
    SURVEYS_WRITE = "surveys:write"
    # claims (scoped: handler, branch)
    CLAIMS_READ = "claims:read"
    CLAIMS_WRITE = "claims:write"
    CLAIMS_APPROVE = "claims:approve"
    # documents, notifications, money, reporting
    FILES_READ = "files:read"
    FILES_WRITE = "files:write"
    NOTIFICATIONS_READ = "notifications:read"
    PAYMENTS_READ = "payments:read"
    PAYMENTS_REFUND = "payments:refund"
    ANALYTICS_READ = "analytics:read"

    @property
    def area(self) -> str:
        """The part before the colon, e.g. `cases`."""
        return self.value.partition(":")[0]

    @property
    def action(self) -> str:
        """The part after the colon, e.g. `read`."""
        return self.value.partition(":")[2]

    @property
    def scoped(self) -> bool:
        """True when the permission's records have an owner, so a grant may narrow it to own or branch."""
        return self in SCOPED


class Scope(StrEnum):
    """How far a grant reaches, declared narrowest first: own records, the user's branch, everything."""

    OWN = "own"
    BRANCH = "branch"
    ALL = "all"

    @property
    def rank(self) -> int:
        """0 for own, 1 for branch, 2 for all."""
        return _ORDER.index(self)

    def covers(self, other: Scope) -> bool:
        """True when this scope reaches at least every record `other` reaches."""
        return self.rank >= other.rank


_ORDER: tuple[Scope, ...] = tuple(Scope)
_SCOPE_VALUES = frozenset(scope.value for scope in Scope)

# Areas whose records have an owner (a case's assignee and its policy's branch, a claim's handler, an email's
# assignee, an upload's uploader). Every other permission is always granted with scope `all`.
_SCOPED_AREAS = frozenset({"cases", "claims", "inbox", "uploads"})
SCOPED: frozenset[Permission] = frozenset(p for p in Permission if p.area in _SCOPED_AREAS)


def broadest(first: Scope, *rest: Scope) -> Scope:
    """The widest of the given scopes."""
    return max((first, *rest), key=lambda scope: scope.rank)


@dataclass(frozen=True, slots=True)
class Grant:
    """One permission granted to a role, at a scope (`all` for permissions without an owner)."""

    permission: Permission
    scope: Scope = Scope.ALL

    def __post_init__(self) -> None:
        if self.scope is not Scope.ALL and self.permission not in SCOPED:
            raise ValidationFailed.on(
                f"permissions.{self.permission}",
                f"'{self.permission}' records have no owner, so its scope must be 'all', not '{self.scope}'")


def parse_grants(raw: Mapping[str, str]) -> list[Grant]:
    """Validate a roles.permissions object such as {"cases:read": "branch"}; grants come in catalogue order."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed.on("permissions", "must be an object mapping permission to scope")
    errors: list[FieldError] = []
    grants: list[Grant] = []
    for key, value in raw.items():
        field = f"permissions.{key}"
        try:
            permission = Permission(key)
        except ValueError:
            errors.append(FieldError(field, "is not a known permission"))
            continue
        if not isinstance(value, str) or value not in _SCOPE_VALUES:
            errors.append(FieldError(field, "scope must be one of own, branch, all"))
            continue
        try:
            grants.append(Grant(permission, Scope(value)))
        except ValidationFailed as failed:
            errors.extend(failed.details)
    if errors:
        raise ValidationFailed(errors)
    order = {p: i for i, p in enumerate(Permission)}
    return sorted(grants, key=lambda grant: order[grant.permission])


def grants_to_json(grants: Iterable[Grant]) -> dict[str, str]:
    """The roles.permissions object for these grants; a repeated permission keeps its broadest scope."""
    return {str(permission): str(scope) for permission, scope in effective_grants([grants]).items()}


def effective_grants(grants_from_roles: Iterable[Iterable[Grant]]) -> dict[Permission, Scope]:
    """Merge the grants of several roles: each permission at the broadest scope any of them gives."""
    merged: dict[Permission, Scope] = {}
    for grants in grants_from_roles:
        for grant in grants:
            current = merged.get(grant.permission)
            merged[grant.permission] = grant.scope if current is None else broadest(current, grant.scope)
    return {permission: merged[permission] for permission in Permission if permission in merged}
