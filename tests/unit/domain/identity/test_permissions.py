"""The permission catalogue, scopes, and validation and merging of roles.permissions grants."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identity.permissions import (
    SCOPED,
    Grant,
    Permission,
    Scope,
    broadest,
    effective_grants,
    grants_to_json,
    parse_grants,
)
from domain.shared.errors import ValidationFailed

NAMED_IN_THE_ISSUE = [
    "users:read", "users:write", "roles:manage", "customers:read", "customers:write", "policies:read",
    "policies:write", "cases:read", "cases:write", "cases:assign", "cases:escalate", "uploads:create",
    "uploads:read", "templates:read", "templates:write", "messages:send", "campaigns:read", "campaigns:write",
    "campaigns:launch", "inbox:read", "inbox:reply", "inbox:manage", "ai:use", "ai:configure", "surveys:read",
    "surveys:write", "claims:read", "claims:write", "claims:approve", "files:read", "files:write",
    "notifications:read", "payments:read", "payments:refund", "analytics:read", "audit:read", "settings:manage",
]


def grants() -> st.SearchStrategy[Grant]:
    """Any valid grant: a scoped permission at any scope, an unscoped one at `all`."""
    return st.sampled_from(list(Permission)).flatmap(
        lambda p: st.builds(Grant, st.just(p), st.sampled_from(list(Scope)) if p in SCOPED else st.just(Scope.ALL)))


def test_the_catalogue_has_at_least_25_permissions_and_every_one_the_issue_names() -> None:
    assert len(Permission) >= 25
    assert set(NAMED_IN_THE_ISSUE) <= {p.value for p in Permission}


def test_every_permission_is_a_lowercase_area_action_pair() -> None:
    for permission in Permission:
        assert permission.value == f"{permission.area}:{permission.action}"
        assert permission.area and permission.action and permission.value == permission.value.lower()


def test_exactly_the_owned_areas_are_scoped() -> None:
    assert {p.area for p in SCOPED} == {"cases", "claims", "inbox", "uploads"}
    assert sorted(SCOPED) == [
        "cases:assign", "cases:escalate", "cases:read", "cases:write", "claims:approve", "claims:read",
        "claims:write", "inbox:manage", "inbox:read", "inbox:reply", "uploads:create", "uploads:read"]
    assert Permission.CASES_READ.scoped and not Permission.CUSTOMERS_READ.scoped


@pytest.mark.parametrize(("wide", "narrow", "covers"), [
    (Scope.ALL, Scope.BRANCH, True), (Scope.ALL, Scope.OWN, True), (Scope.BRANCH, Scope.OWN, True),
    (Scope.OWN, Scope.OWN, True), (Scope.OWN, Scope.BRANCH, False), (Scope.BRANCH, Scope.ALL, False),
])
def test_a_scope_covers_itself_and_every_narrower_one(wide: Scope, narrow: Scope, covers: bool) -> None:
    assert wide.covers(narrow) is covers


def test_broadest_picks_the_widest_scope() -> None:
    assert broadest(Scope.OWN) is Scope.OWN
    assert broadest(Scope.OWN, Scope.BRANCH) is Scope.BRANCH
    assert broadest(Scope.BRANCH, Scope.ALL, Scope.OWN) is Scope.ALL


def test_a_valid_object_parses_in_catalogue_order_and_round_trips() -> None:
    raw = {"claims:read": "own", "cases:read": "branch", "customers:read": "all", "uploads:create": "all"}
    parsed = parse_grants(raw)
    assert parsed == [Grant(Permission.CUSTOMERS_READ, Scope.ALL), Grant(Permission.CASES_READ, Scope.BRANCH),
                      Grant(Permission.UPLOADS_CREATE, Scope.ALL), Grant(Permission.CLAIMS_READ, Scope.OWN)]
    assert grants_to_json(parsed) == raw
    assert list(grants_to_json(parsed)) == ["customers:read", "cases:read", "uploads:create", "claims:read"]


def test_an_empty_object_is_a_role_without_permissions() -> None:
    assert parse_grants({}) == []


@pytest.mark.parametrize(("key", "scope"), [
    ("cases:delete", "all"),        # unknown action
    ("cases", "all"),               # a frontend page key is not a permission
    ("Cases:Read", "all"),          # case matters
    ("cases:read", "team"),         # unknown scope
    ("cases:read", "ALL"),
    ("cases:read", ""),
    ("customers:read", "own"),      # customers have no owner
    ("settings:manage", "branch"),
])
def test_each_bad_entry_is_refused_naming_its_key(key: str, scope: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_grants({"cases:read": "own", key: scope} if key != "cases:read" else {key: scope})
    assert [d.field for d in raised.value.details] == [f"permissions.{key}"]


@pytest.mark.parametrize("scope", [None, True, 1, ["own"], {"scope": "own"}])
def test_a_scope_that_is_not_a_string_is_refused(scope: Any) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_grants({"cases:read": scope})
    assert [d.field for d in raised.value.details] == ["permissions.cases:read"]


def test_every_bad_entry_is_reported_at_once() -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_grants({"nope:read": "all", "cases:read": "own", "cases:write": "world", "audit:read": "own"})
    assert {d.field for d in raised.value.details} == {
        "permissions.nope:read", "permissions.cases:write", "permissions.audit:read"}


@pytest.mark.parametrize("raw", [["cases:read"], "cases:read", None])
def test_something_other_than_an_object_is_refused(raw: Any) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_grants(raw)
    assert [d.field for d in raised.value.details] == ["permissions"]


def test_a_grant_cannot_narrow_an_unscoped_permission() -> None:
    with pytest.raises(ValidationFailed) as raised:
        Grant(Permission.TEMPLATES_WRITE, Scope.OWN)
    assert raised.value.details[0].field == "permissions.templates:write"
    assert Grant(Permission.TEMPLATES_WRITE).scope is Scope.ALL


@given(st.lists(st.lists(grants(), max_size=12), max_size=5))
def test_effective_grants_keep_the_broadest_scope_of_every_permission(roles: list[list[Grant]]) -> None:
    effective = effective_grants(roles)
    given_grants = [grant for role in roles for grant in role]
    assert set(effective) == {grant.permission for grant in given_grants}
    for permission, scope in effective.items():
        inputs = [grant.scope for grant in given_grants if grant.permission is permission]
        assert scope is max(inputs, key=lambda s: s.rank)
        assert all(scope.covers(other) for other in inputs)
    assert list(effective) == [p for p in Permission if p in effective]


@given(st.lists(grants(), max_size=20))
def test_json_round_trip_gives_the_merged_grants(role: list[Grant]) -> None:
    as_json = grants_to_json(role)
    assert {Permission(k): Scope(v) for k, v in as_json.items()} == effective_grants([role])
    assert grants_to_json(parse_grants(as_json)) == as_json
