"""The seven built-in roles: valid, least-privilege grants and the pages they open."""

from __future__ import annotations

import pytest

from domain.identity.pages import PAGE_KEYS, PLACEHOLDER_PAGES, pages_for
from domain.identity.permissions import SCOPED, Permission, Scope, parse_grants
from domain.identity.roles import BUILT_IN_ROLES, BuiltInRole, built_in_role

P = Permission
WRITE_ACTIONS = ("write", "manage", "send", "launch", "assign", "escalate", "approve", "refund", "create", "reply",
                 "configure")
ADMINISTRATION = {P.USERS_WRITE, P.ROLES_MANAGE, P.SETTINGS_MANAGE, P.AI_CONFIGURE}

# the frontend's DashboardRedirect: the first module group the user has a page of decides the landing page
LANDING = [
    ({"cases", "closed-cases", "policy-timeline", "logs", "renewal-email-manager", "renewal-whatsapp-manager"},
     "dashboard"),
    ({"emails", "email-dashboard", "email-analytics", "bulk-email"}, "email-dashboard"),
    ({"lead-management", "claims", "policy-servicing", "new-business", "medical-management"}, "claims"),
    ({"campaigns", "templates"}, "campaigns"),
    ({"feedback", "survey-designer"}, "feedback"),
    ({"whatsapp-flow"}, "whatsapp-flow"),
    ({"settings", "billing", "users"}, "settings"),
]


def role(name: str) -> BuiltInRole:
    found = built_in_role(name)
    assert found is not None
    return found


def scoped_grants(name: str) -> set[Scope]:
    return {grant.scope for grant in role(name).grants if grant.permission in SCOPED}


def test_the_seven_frontend_roles_are_built_in() -> None:
    assert [r.name for r in BUILT_IN_ROLES] == [
        "admin", "client_admin", "renewals_specialist", "all_modules_manager", "manager", "agent", "viewer"]
    assert built_in_role("auditor") is None


@pytest.mark.parametrize("built_in", BUILT_IN_ROLES, ids=lambda r: r.name)
def test_every_role_is_valid_and_documented(built_in: BuiltInRole) -> None:
    assert built_in.display_name and len(built_in.description) > 40
    assert len({grant.permission for grant in built_in.grants}) == len(built_in.grants)
    assert parse_grants(built_in.permissions_json()) == list(built_in.grants)
    for grant in built_in.grants:
        assert grant.permission in SCOPED or grant.scope is Scope.ALL
    assert P.NOTIFICATIONS_READ in built_in.permissions


def test_admin_holds_every_permission_over_everything_and_needs_mfa() -> None:
    admin = role("admin")
    assert admin.permissions == set(Permission)
    assert {grant.scope for grant in admin.grants} == {Scope.ALL}
    assert admin.requires_mfa and role("client_admin").requires_mfa


def test_client_admin_is_admin_without_the_ai_provider() -> None:
    client_admin = role("client_admin")
    assert client_admin.permissions == set(Permission) - {P.AI_CONFIGURE}
    assert {grant.scope for grant in client_admin.grants} == {Scope.ALL}


@pytest.mark.parametrize("name", ["admin", "client_admin"])
def test_administrators_open_every_page_but_the_placeholders(name: str) -> None:
    assert pages_for(role(name).permissions) == [page for page in PAGE_KEYS if page not in PLACEHOLDER_PAGES]


def test_viewer_cannot_change_anything() -> None:
    viewer = role("viewer")
    assert all(p.action == "read" for p in viewer.permissions)
    assert not [p for p in viewer.permissions if p.value.endswith(tuple(f":{a}" for a in WRITE_ACTIONS))]
    assert not viewer.requires_mfa


def test_agent_works_only_their_own_records_and_does_not_administer() -> None:
    agent = role("agent")
    assert scoped_grants("agent") == {Scope.OWN}
    assert {P.CASES_READ, P.CASES_WRITE, P.MESSAGES_SEND, P.INBOX_REPLY} <= agent.permissions
    assert not {P.CASES_ASSIGN, P.UPLOADS_CREATE, P.CAMPAIGNS_LAUNCH, P.PAYMENTS_REFUND} & agent.permissions
    assert not ADMINISTRATION & agent.permissions


def test_manager_works_their_branch() -> None:
    manager = role("manager")
    assert scoped_grants("manager") == {Scope.BRANCH}
    assert {P.CASES_ASSIGN, P.CASES_ESCALATE, P.UPLOADS_CREATE, P.CAMPAIGNS_LAUNCH} <= manager.permissions
    assert not ADMINISTRATION & manager.permissions


def test_renewals_specialist_owns_their_renewals() -> None:
    specialist = role("renewals_specialist")
    assert scoped_grants("renewals_specialist") == {Scope.OWN}
    assert {P.CASES_READ, P.CUSTOMERS_WRITE, P.POLICIES_READ, P.UPLOADS_CREATE, P.MESSAGES_SEND,
            P.TEMPLATES_READ, P.CAMPAIGNS_READ} <= specialist.permissions
    assert not {P.TEMPLATES_WRITE, P.CAMPAIGNS_WRITE, P.CAMPAIGNS_LAUNCH, P.CASES_ASSIGN} & specialist.permissions
    assert not ADMINISTRATION & specialist.permissions


def test_all_modules_manager_spans_the_modules_of_their_branch_without_administering() -> None:
    amm = role("all_modules_manager")
    assert scoped_grants("all_modules_manager") == {Scope.BRANCH}
    assert {p.area for p in amm.permissions} >= {
        "customers", "policies", "cases", "uploads", "templates", "messages", "campaigns", "inbox", "ai",
        "surveys", "claims", "files", "payments", "analytics"}
    assert not ADMINISTRATION & amm.permissions
    assert "settings" not in pages_for(amm.permissions)


def test_only_administrators_manage_users_roles_and_settings() -> None:
    for built_in in BUILT_IN_ROLES:
        holds = bool(ADMINISTRATION & built_in.permissions)
        assert holds is (built_in.name in {"admin", "client_admin"}), built_in.name


@pytest.mark.parametrize("built_in", BUILT_IN_ROLES, ids=lambda r: r.name)
def test_the_frontend_lands_every_role_on_a_page_it_opens(built_in: BuiltInRole) -> None:
    pages = set(pages_for(built_in.permissions))
    landing = next((page for group, page in LANDING if group & pages), "profile")
    assert landing in pages
