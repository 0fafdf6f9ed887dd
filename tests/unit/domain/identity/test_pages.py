"""The frontend's page keys and the action permissions that open them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identity.pages import PAGE_KEYS, PAGES_BY_PERMISSION, PLACEHOLDER_PAGES, PROFILE, pages_for
from domain.identity.permissions import Permission

P = Permission

CONTRACT_PAGE_KEYS = [
    "dashboard", "upload", "cases", "closed-cases", "policy-timeline", "logs",
    "claims", "policy-servicing", "new-business", "medical-management", "lead-management",
    "emails", "email-dashboard", "email-analytics", "bulk-email",
    "campaigns", "templates",
    "feedback", "survey-designer",
    "whatsapp-flow",
    "renewal-email-manager", "renewal-whatsapp-manager",
    "settings", "billing", "users",
    "profile",
]


def test_page_keys_are_the_26_of_the_frontend_contract_in_its_order() -> None:
    assert list(PAGE_KEYS) == CONTRACT_PAGE_KEYS
    assert len(set(PAGE_KEYS)) == 26


def test_every_permission_has_an_entry_naming_only_known_pages() -> None:
    assert set(PAGES_BY_PERMISSION) == set(Permission)
    for pages in PAGES_BY_PERMISSION.values():
        assert pages <= set(PAGE_KEYS)
        assert PROFILE not in pages  # profile is implicit, not granted


def test_every_page_but_the_documented_placeholders_is_reachable() -> None:
    reachable = set().union(*PAGES_BY_PERMISSION.values()) | {PROFILE}
    assert reachable == set(PAGE_KEYS) - PLACEHOLDER_PAGES
    assert sorted(PLACEHOLDER_PAGES) == ["lead-management", "medical-management"]
    assert not PLACEHOLDER_PAGES & set(pages_for(Permission))


@pytest.mark.parametrize(("permission", "pages"), [
    (P.CASES_READ, {"cases", "closed-cases", "policy-timeline", "logs", "dashboard"}),
    (P.UPLOADS_CREATE, {"upload"}),
    (P.INBOX_READ, {"emails", "email-dashboard"}),
    (P.ANALYTICS_READ, {"dashboard", "email-analytics"}),
    (P.USERS_READ, {"users"}),
    (P.SETTINGS_MANAGE, {"settings"}),
    (P.ROLES_MANAGE, {"settings"}),
    (P.CAMPAIGNS_READ, {"campaigns"}),
    (P.MESSAGES_SEND, {"renewal-email-manager", "renewal-whatsapp-manager"}),
    (P.SURVEYS_READ, {"feedback", "survey-designer"}),
    (P.CLAIMS_READ, {"claims"}),
    (P.PAYMENTS_READ, {"billing"}),
    (P.POLICIES_WRITE, {"policy-servicing", "new-business"}),
    (P.AUDIT_READ, {"logs"}),
])
def test_a_permission_opens_the_pages_where_it_is_used(permission: Permission, pages: set[str]) -> None:
    assert pages <= PAGES_BY_PERMISSION[permission]


def test_no_permissions_still_open_the_profile() -> None:
    assert pages_for([]) == [PROFILE]


def test_pages_are_listed_once_in_page_key_order() -> None:
    assert pages_for([P.USERS_READ, P.CASES_READ, P.UPLOADS_READ, P.CASES_WRITE]) == [
        "dashboard", "upload", "cases", "closed-cases", "policy-timeline", "logs", "users", "profile"]


@given(st.lists(st.sampled_from(list(Permission))))
def test_pages_for_is_the_ordered_union_of_the_mapping_plus_profile(permissions: list[Permission]) -> None:
    pages = pages_for(permissions)
    expected = set().union(*(PAGES_BY_PERMISSION[p] for p in permissions)) | {PROFILE}
    assert set(pages) == expected
    assert pages == [page for page in PAGE_KEYS if page in expected]
    assert PROFILE in pages
