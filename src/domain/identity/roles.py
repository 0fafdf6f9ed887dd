"""The seven built-in roles the frontend knows, with least-privilege action grants, seeded as system roles."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.identity.permissions import SCOPED, Grant, Permission, Scope, grants_to_json

__all__ = ["BUILT_IN_ROLES", "BuiltInRole", "built_in_role"]

P = Permission


@dataclass(frozen=True)
class BuiltInRole:
    """A system role: its name (the frontend's role id), its grants and whether its users must use MFA."""

    name: str
    display_name: str
    description: str
    grants: tuple[Grant, ...]
    requires_mfa: bool = False

    @property
    def permissions(self) -> frozenset[Permission]:
        """The permissions granted, whatever their scope."""
        return frozenset(grant.permission for grant in self.grants)

    def permissions_json(self) -> dict[str, str]:
        """The roles.permissions object to store for this role."""
        return grants_to_json(self.grants)


def _at(scope: Scope, permissions: Iterable[Permission]) -> tuple[Grant, ...]:
    """Grant each permission at `scope` where it has an owner, and at `all` where it has none."""
    wanted = set(permissions)
    return tuple(Grant(p, scope if p in SCOPED else Scope.ALL) for p in Permission if p in wanted)


def _all_but(*excluded: Permission) -> tuple[Permission, ...]:
    """Every permission of the catalogue except the excluded ones."""
    return tuple(p for p in Permission if p not in excluded)


_CASE_WORK = (P.CASES_READ, P.CASES_WRITE, P.CASES_ESCALATE)
_INBOX_WORK = (P.INBOX_READ, P.INBOX_REPLY)
_EVERYONE = (P.NOTIFICATIONS_READ,)
# files:* reaches the whole document store (files carry no owner scope), so only the administrators and the
# all-modules manager hold it; case workers reach a case's documents through the case and its scope.

ADMIN = BuiltInRole(
    name="admin", display_name="Administrator", requires_mfa=True,
    description="Operates the platform: every permission over every record, including roles, settings, the AI "
                "provider and refunds. MFA is required.",
    grants=_at(Scope.ALL, Permission))

CLIENT_ADMIN = BuiltInRole(
    name="client_admin", display_name="Client Administrator", requires_mfa=True,
    description="The insurer's own administrator: every permission over every record (users, roles, settings, "
                "refunds, audit) except configuring the AI provider, which stays with the platform admin. "
                "MFA is required.",
    grants=_at(Scope.ALL, _all_but(P.AI_CONFIGURE)))

ALL_MODULES_MANAGER = BuiltInRole(
    name="all_modules_manager", display_name="All Modules Manager",
    description="Runs every business module (renewals, inbox, campaigns, surveys, claims incl. approval, "
                "policy servicing and new business, payments, analytics, audit) for their branch. Does not "
                "administer: no user, role, settings or AI-provider management, and no refunds.",
    grants=_at(Scope.BRANCH, _all_but(P.USERS_WRITE, P.ROLES_MANAGE, P.SETTINGS_MANAGE, P.AI_CONFIGURE,
                                      P.PAYMENTS_REFUND)))

MANAGER = BuiltInRole(
    name="manager", display_name="Manager",
    description="Leads a renewal team in one branch: sees and works the branch's cases, assigns and escalates "
                "them, uploads policy books, runs campaigns, templates and surveys, manages the branch inbox "
                "and reads its claims and analytics. Reads the user directory to pick assignees.",
    grants=_at(Scope.BRANCH, (
        P.USERS_READ, P.CUSTOMERS_READ, P.CUSTOMERS_WRITE, P.POLICIES_READ, *_CASE_WORK, P.CASES_ASSIGN,
        P.UPLOADS_CREATE, P.UPLOADS_READ, P.TEMPLATES_READ, P.TEMPLATES_WRITE, P.MESSAGES_SEND,
        P.CAMPAIGNS_READ, P.CAMPAIGNS_WRITE, P.CAMPAIGNS_LAUNCH, *_INBOX_WORK, P.INBOX_MANAGE, P.AI_USE,
        P.SURVEYS_READ, P.SURVEYS_WRITE, P.CLAIMS_READ, P.CLAIMS_WRITE, P.ANALYTICS_READ, *_EVERYONE)))

RENEWALS_SPECIALIST = BuiltInRole(
    name="renewals_specialist", display_name="Renewals Specialist",
    description="Works the renewals they own end to end: uploads policy books, updates customer contact "
                "details, works and escalates their cases, messages customers with approved templates and "
                "answers their replies; can see campaigns but not run them.",
    grants=_at(Scope.OWN, (
        P.CUSTOMERS_READ, P.CUSTOMERS_WRITE, P.POLICIES_READ, *_CASE_WORK, P.UPLOADS_CREATE, P.UPLOADS_READ,
        P.TEMPLATES_READ, P.MESSAGES_SEND, P.CAMPAIGNS_READ, *_INBOX_WORK, P.AI_USE, *_EVERYONE)))

AGENT = BuiltInRole(
    name="agent", display_name="Agent",
    description="Works the renewal cases assigned to them: reads the customer and policy, updates and escalates "
                "the case, messages the customer with approved templates and answers the conversations "
                "assigned to them. Cannot assign cases, upload, or change customers and policies.",
    grants=_at(Scope.OWN, (
        P.CUSTOMERS_READ, P.POLICIES_READ, *_CASE_WORK, P.TEMPLATES_READ, P.MESSAGES_SEND, *_INBOX_WORK,
        P.AI_USE, *_EVERYONE)))

VIEWER = BuiltInRole(
    name="viewer", display_name="Viewer",
    description="Read-only oversight of the renewal book: customers, policies, every case and the dashboards. "
                "Cannot change, send or assign anything, and sees no inbox, claims, payments or users.",
    grants=_at(Scope.ALL, (P.CUSTOMERS_READ, P.POLICIES_READ, P.CASES_READ, P.ANALYTICS_READ, *_EVERYONE)))

BUILT_IN_ROLES: tuple[BuiltInRole, ...] = (
    ADMIN, CLIENT_ADMIN, RENEWALS_SPECIALIST, ALL_MODULES_MANAGER, MANAGER, AGENT, VIEWER,
)


def built_in_role(name: str) -> BuiltInRole | None:
    """The built-in role of that name, or None for a custom role."""
    return next((role for role in BUILT_IN_ROLES if role.name == name), None)
