"""The frontend's page keys and which action permissions open them, for the `pages` of GET /api/auth/me."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from domain.identity.permissions import Permission

__all__ = ["PAGES_BY_PERMISSION", "PAGE_KEYS", "PLACEHOLDER_PAGES", "PROFILE", "pages_for"]

# The 26 page-level permission strings of the frontend's PermissionsContext, in its order
# (frontend-contract 2.3). `pages_for` answers in this order.
PAGE_KEYS: tuple[str, ...] = (
    "dashboard", "upload", "cases", "closed-cases", "policy-timeline", "logs",
    "claims", "policy-servicing", "new-business", "medical-management", "lead-management",
    "emails", "email-dashboard", "email-analytics", "bulk-email",
    "campaigns", "templates",
    "feedback", "survey-designer",
    "whatsapp-flow",
    "renewal-email-manager", "renewal-whatsapp-manager",
    "settings", "billing", "users",
    "profile",
)

# Every authenticated user has a profile page (own details, password, MFA), whatever their role.
PROFILE = "profile"

# `lead-management` (with /lms-settings) and `medical-management` are modules the backend does not have: the
# specification names neither and the frontend shows only mock data or "coming soon". No permission opens
# them, so no role (admin included) sees their menu entries and nobody works on data that is not stored.
# When such a module is built it gets its own permissions (e.g. leads:read) and its page is mapped to them here.
PLACEHOLDER_PAGES: frozenset[str] = frozenset({"lead-management", "medical-management"})

_CASE_PAGES = frozenset({"cases"})
_INBOX_PAGES = frozenset({"emails", "renewal-email-manager", "renewal-whatsapp-manager"})

# Each permission opens the pages where it is exercised. Decisions the contract leaves open:
# - `dashboard` is opened by cases:read as well as analytics:read: the frontend sends everyone who has a renewals
#   page (cases, policy-timeline, ...) to /dashboard/renewals first, so a case worker must be able to open it;
#   a caller without analytics:read should get the summary computed within their cases:read scope.
# - `policy-servicing` and `new-business` change the policy book (endorsements, issuing new policies), so
#   policies:write opens them; policies:read and customers:read open the customer/policy timeline only.
# - The renewal email and WhatsApp managers are conversation inboxes with a composer: inbox:read opens them to
#   read replies and messages:send to write to a customer. `bulk-email` is an ad hoc mass mailing, so it belongs
#   to campaigns:write/launch, not to messages:send. `whatsapp-flow` builds automated conversations and sits
#   with campaigns.
# - `billing` shows payments, receivables and delivery costs: payments:read. `logs` is the case event log
#   (cases:read) and the audit trail (audit:read). The role editor lives in Settings, so roles:manage and
#   ai:configure (Settings > System) open `settings`.
# - ai:use (the layout's "Ask AI"), notifications:read (the bell) and files:* (reached through the record a file
#   belongs to) open no page of their own.
PAGES_BY_PERMISSION: Mapping[Permission, frozenset[str]] = MappingProxyType({
    Permission.USERS_READ: frozenset({"users"}),
    Permission.USERS_WRITE: frozenset({"users"}),
    Permission.ROLES_MANAGE: frozenset({"settings"}),
    Permission.SETTINGS_MANAGE: frozenset({"settings"}),
    Permission.AUDIT_READ: frozenset({"logs"}),
    Permission.CUSTOMERS_READ: frozenset({"policy-timeline"}),
    Permission.CUSTOMERS_WRITE: frozenset({"policy-timeline"}),
    Permission.POLICIES_READ: frozenset({"policy-timeline"}),
    Permission.POLICIES_WRITE: frozenset({"policy-servicing", "new-business"}),
    Permission.CASES_READ: frozenset({"dashboard", "cases", "closed-cases", "policy-timeline", "logs"}),
    Permission.CASES_WRITE: _CASE_PAGES,
    Permission.CASES_ASSIGN: _CASE_PAGES,
    Permission.CASES_ESCALATE: _CASE_PAGES,
    Permission.UPLOADS_CREATE: frozenset({"upload"}),
    Permission.UPLOADS_READ: frozenset({"upload"}),
    Permission.TEMPLATES_READ: frozenset({"templates"}),
    Permission.TEMPLATES_WRITE: frozenset({"templates"}),
    Permission.MESSAGES_SEND: frozenset({"renewal-email-manager", "renewal-whatsapp-manager"}),
    Permission.CAMPAIGNS_READ: frozenset({"campaigns", "whatsapp-flow"}),
    Permission.CAMPAIGNS_WRITE: frozenset({"campaigns", "whatsapp-flow", "bulk-email"}),
    Permission.CAMPAIGNS_LAUNCH: frozenset({"campaigns", "bulk-email"}),
    Permission.INBOX_READ: _INBOX_PAGES | {"email-dashboard"},
    Permission.INBOX_REPLY: _INBOX_PAGES,
    Permission.INBOX_MANAGE: frozenset({"emails", "email-dashboard"}),
    Permission.AI_USE: frozenset(),
    Permission.AI_CONFIGURE: frozenset({"settings"}),
    Permission.SURVEYS_READ: frozenset({"feedback", "survey-designer"}),
    Permission.SURVEYS_WRITE: frozenset({"feedback", "survey-designer"}),
    Permission.CLAIMS_READ: frozenset({"claims"}),
    Permission.CLAIMS_WRITE: frozenset({"claims"}),
    Permission.CLAIMS_APPROVE: frozenset({"claims"}),
    Permission.FILES_READ: frozenset(),
    Permission.FILES_WRITE: frozenset(),
    Permission.NOTIFICATIONS_READ: frozenset(),
    Permission.PAYMENTS_READ: frozenset({"billing"}),
    Permission.PAYMENTS_REFUND: frozenset({"billing"}),
    Permission.ANALYTICS_READ: frozenset({"dashboard", "email-analytics"}),
})


def pages_for(permissions: Iterable[Permission]) -> list[str]:
    """The page keys these permissions open, in PAGE_KEYS order; `profile` is always among them."""
    opened = {PROFILE}
    for permission in permissions:
        opened |= PAGES_BY_PERMISSION[permission]
    return [page for page in PAGE_KEYS if page in opened]
