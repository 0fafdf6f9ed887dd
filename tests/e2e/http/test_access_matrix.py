"""The access matrix over HTTP: every principal against every read route, and the writes that must be refused.

The expected status of each cell is derived, never written per role: no token is 401; a role without the
route's permission (domain/identity/roles.py) is 403; a scoped record outside the grant's scope is 404; anything
else answers. Lists must hold exactly the records the scope reaches, and their totals must agree.

World: branches B1 and B2. Case X (a B1 policy) is assigned to agent A1, case Y (B1) to agent A2, case Z (a B2
policy) to nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from application.policies.ports import CaseFilters, CustomerFilters
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING
from domain.identity.model import Role
from domain.identity.permissions import Permission, Scope, effective_grants
from domain.identity.roles import BUILT_IN_ROLES
from entrypoints.container import AppContainer
from tests.factories import new_customer, new_policy, set_case_owners
from tests.identity_support import add_branch, bearer, make_user, role_id, token_for

P = Permission
Client = httpx.AsyncClient
NO_GRANTS_ROLE = "test_no_grants"
MFA_SECRET = "JBSWY3DPEHPK3PXP"


def grants_of(role_name: str) -> dict[Permission, Scope]:
    """What the role grants, from its definition in domain/identity/roles.py (the custom empty role: nothing)."""
    if role_name == NO_GRANTS_ROLE:
        return {}
    role = next(r for r in BUILT_IN_ROLES if r.name == role_name)
    return effective_grants([role.grants])


@dataclass(frozen=True)
class Caller:
    name: str
    role: str | None  # None: no token at all
    user_id: int | None = None
    branch_id: int | None = None
    token: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token) if self.token else {}

    @property
    def grants(self) -> dict[Permission, Scope]:
        return grants_of(self.role) if self.role else {}


@dataclass(frozen=True)
class Case:
    id: int
    branch_id: int
    assigned_to: int | None = None
    escalated_to: int | None = None

    @property
    def public(self) -> str:
        return f"case-{self.id}"


def sees(caller: Caller, case: Case, permission: Permission = P.CASES_READ) -> bool:
    """Whether the caller's grant of `permission` reaches `case` (application/shared/visibility.py)."""
    scope = caller.grants.get(permission)
    if scope is None:
        return False
    owns = caller.user_id is not None and caller.user_id in (case.assigned_to, case.escalated_to)
    if scope is Scope.ALL:
        return True
    if scope is Scope.BRANCH:
        return owns or (caller.branch_id is not None and caller.branch_id == case.branch_id)
    return owns


@dataclass(frozen=True)
class Check:
    """One GET route: the permission it needs (None: any signed-in user) and what it shows."""

    path: str
    needs: Permission | None
    case: Case | None = None  # a scoped detail: visible only within the grant's scope
    listed: str | None = None  # a list: the key of its items in `data`
    total: int | None = None  # a list's expected total for every caller allowed to read it (unscoped lists)


def expected_status(caller: Caller, check: Check) -> int:
    if caller.token is None:
        return 401
    if check.needs is None:
        return 200
    if check.needs not in caller.grants:
        return 403
    if check.case is not None and not sees(caller, check.case, check.needs):
        return 404
    return 200


@dataclass
class World:
    callers: dict[str, Caller]
    cases: dict[str, Case]
    customers: list[str]
    policies: dict[str, str]  # case name -> the public id of its policy
    user_ids: list[int]
    roles: int
    extra: dict[str, Any] = field(default_factory=dict)

    def checks(self) -> list[Check]:
        x = self.cases["X"]
        a1 = self.callers["A1"]
        return [
            Check("/api/customers", P.CUSTOMERS_READ, listed="customers", total=len(self.customers)),
            Check(f"/api/customers/{self.customers[-1]}", P.CUSTOMERS_READ),
            Check("/api/policies", P.POLICIES_READ, listed="policies", total=len(self.policies)),
            *(Check(f"/api/policies/{pid}", P.POLICIES_READ) for pid in self.policies.values()),
            Check("/api/policy-types", P.POLICIES_READ),
            Check("/api/cases", P.CASES_READ, listed="cases"),
            *(Check(f"/api/cases/{case.public}", P.CASES_READ, case=case) for case in self.cases.values()),
            Check(f"/api/cases/{x.id}", P.CASES_READ, case=x),  # the bare number reaches the same record
            Check("/api/users", P.USERS_READ, listed="users", total=len(self.user_ids)),
            Check(f"/api/users/user-{a1.user_id}", P.USERS_READ),
            Check("/api/roles", P.USERS_READ, listed="roles", total=self.roles),
            Check(f"/api/roles/role-{self.extra['agent_role']}", P.USERS_READ),
            Check("/api/permissions", P.USERS_READ, listed="permissions", total=len(Permission)),
            Check("/api/audit", P.AUDIT_READ, listed="entries"),
            Check("/api/auth/me", None),
            Check("/api/auth/sessions", None, listed="sessions", total=1),
        ]


async def build_world(container: AppContainer) -> World:
    b1, b2 = await add_branch(container, "B1"), await add_branch(container, "B2")
    async with container.adapters.identity_uow() as uow:
        await uow.roles.add(Role(id=None, name=NO_GRANTS_ROLE, display_name="Test: no grants", grants=()))
        await uow.commit()
    mfa = {"mfa_enabled": True, "mfa_secret": MFA_SECRET}  # so the MFA-required roles get full access tokens
    people: list[tuple[str, str, int | None, dict[str, Any]]] = [
        ("admin", "admin", None, mfa), ("client_admin", "client_admin", None, mfa),
        ("all_modules_manager", "all_modules_manager", b1, {}), ("M1", "manager", b1, {}),
        ("M2", "manager", b2, {}), ("A1", "agent", b1, {}), ("A2", "agent", b1, {}),
        ("renewals_specialist", "renewals_specialist", b1, {}), ("viewer", "viewer", None, {}),
        ("no_grants", NO_GRANTS_ROLE, b1, {}),
    ]
    callers: dict[str, Caller] = {}
    for name, role, branch, extra in people:
        user = await make_user(container, role, branch_id=branch, **extra)
        assert user.id is not None
        callers[name] = Caller(name, role, user.id, branch, await token_for(container, user))
    callers["outsider"] = Caller("outsider", None)

    customers = [await container.application.customers().register(new_customer(last_name=f"Rao{n}"))
                 for n in range(3)]
    issue = container.application.policies().issue
    due = {"X": (customers[0].id, b1), "Y": (customers[1].id, b1), "Z": (customers[2].id, b2)}
    policy_ids = {name: (await issue(new_policy(cid, renewal_in_days=10 + n, branch_id=branch))).id
                  for n, (name, (cid, branch)) in enumerate(due.items())}
    case_service = container.application.cases()
    assert await case_service.open_due_cases() == 3
    listed = await case_service.list(CaseFilters(), PageRequest(limit=100), EVERYTHING)
    case_of = {int(view.policy_id): int(view.id) for view in listed.items}
    owners = {"X": callers["A1"].user_id, "Y": callers["A2"].user_id, "Z": None}
    cases: dict[str, Case] = {}
    for name, pid in policy_ids.items():
        cases[name] = Case(case_of[int(pid)], due[name][1], assigned_to=owners[name])
        await set_case_owners(container, cases[name].id, assigned_to=owners[name])
    return World(
        callers=callers, cases=cases, customers=[f"customer-{c.id}" for c in customers],
        policies={name: f"policy-{pid}" for name, pid in policy_ids.items()},
        user_ids=[c.user_id for c in callers.values() if c.user_id is not None],
        roles=len(BUILT_IN_ROLES) + 1, extra={"agent_role": await role_id(container, "agent")})


@pytest.fixture
async def world(sql_container: AppContainer, anonymous: Client) -> World:
    return await build_world(sql_container)


def _items(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = body["data"][key]
    return items


async def test_read_matrix_matches_the_role_grants(anonymous: Client, world: World) -> None:
    checks = world.checks()
    mismatches: list[str] = []
    unauthorized_successes: list[str] = []
    cells = 0
    for caller in world.callers.values():
        for check in checks:
            cells += 1
            response = await anonymous.get(check.path, headers=caller.headers)
            expected, actual = expected_status(caller, check), response.status_code
            cell = f"{caller.name:>20} GET {check.path}: expected {expected}, got {actual}"
            if actual != expected:
                mismatches.append(cell)
            if 200 <= actual < 300 and expected != 200:
                unauthorized_successes.append(cell)
            if actual != 200:
                assert response.json()["success"] is False
                continue
            if check.listed is None:
                continue
            body = response.json()
            items = _items(body, check.listed)
            if check.listed == "cases":
                wanted = {case.public for case in world.cases.values() if sees(caller, case)}
                got = [item["id"] for item in items]
                leaked = sorted(set(got) - wanted)
                if leaked:
                    unauthorized_successes.append(f"{caller.name:>20} GET /api/cases lists {leaked}")
                if sorted(got) != sorted(wanted) or body["data"]["pagination"]["total"] != len(wanted):
                    mismatches.append(f"{caller.name:>20} GET /api/cases: listed {sorted(got)} "
                                      f"(total {body['data']['pagination']['total']}), expected {sorted(wanted)}")
            elif check.total is not None:
                total = body["data"].get("pagination", {}).get("total", len(items))
                if (len(items), total) != (check.total, check.total):
                    mismatches.append(f"{caller.name:>20} GET {check.path}: {len(items)} items, total {total}, "
                                      f"expected {check.total}")
    assert (len(world.callers), len(checks), cells) == (11, 20, 220)
    outcomes = {expected_status(caller, check) for caller in world.callers.values() for check in checks}
    assert outcomes == {200, 401, 403, 404}  # the world exercises every kind of refusal
    assert not unauthorized_successes, "unauthorized successes:\n" + "\n".join(unauthorized_successes)
    assert not mismatches, "access matrix mismatches:\n" + "\n".join(mismatches)


async def _case_ids(client: Client, caller: Caller) -> list[str]:
    response = await client.get("/api/cases", headers=caller.headers)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["pagination"]["total"] == len(data["cases"])
    return sorted(case["id"] for case in data["cases"])


async def test_case_scopes_by_name(anonymous: Client, world: World) -> None:
    """The matrix's derivation spelt out for the cases that matter most."""
    c, x, y, z = world.callers, world.cases["X"].public, world.cases["Y"].public, world.cases["Z"].public
    assert (await anonymous.get(f"/api/cases/{y}", headers=c["A1"].headers)).status_code == 404
    assert (await anonymous.get(f"/api/cases/{z}", headers=c["A1"].headers)).status_code == 404
    detail = await anonymous.get(f"/api/cases/{x}", headers=c["A1"].headers)
    assert detail.status_code == 200 and detail.json()["data"]["id"] == x
    assert await _case_ids(anonymous, c["A1"]) == [x]
    assert await _case_ids(anonymous, c["A2"]) == [y]
    assert await _case_ids(anonymous, c["M1"]) == sorted([x, y])
    assert await _case_ids(anonymous, c["M2"]) == [z]
    assert await _case_ids(anonymous, c["all_modules_manager"]) == sorted([x, y])
    assert await _case_ids(anonymous, c["renewals_specialist"]) == []
    for everyone in ("viewer", "admin", "client_admin"):
        assert await _case_ids(anonymous, c[everyone]) == sorted([x, y, z])
    # a filter cannot widen the scope: A1 asking for A2's cases gets none of them
    mine = await anonymous.get(f"/api/cases?assignee=user-{c['A2'].user_id}", headers=c["A1"].headers)
    assert mine.status_code == 200 and mine.json()["data"]["pagination"]["total"] == 0
    assert (await anonymous.get("/api/cases", headers=c["no_grants"].headers)).status_code == 403
    assert (await anonymous.get("/api/cases")).status_code == 401


@dataclass(frozen=True)
class Write:
    method: str
    path: str
    needs: Permission
    body: dict[str, Any]
    success: int


async def test_writes_are_refused_without_the_permission(anonymous: Client, world: World,
                                                         sql_container: AppContainer) -> None:
    policy = world.policies["Z"]
    writes = [
        Write("POST", "/api/customers", P.CUSTOMERS_WRITE, {"firstName": "Eve", "lastName": "Intruder"}, 201),
        Write("PATCH", f"/api/policies/{policy}", P.POLICIES_WRITE, {"sumAssured": 999999}, 200),
        Write("PATCH", f"/api/customers/{world.customers[0]}", P.CUSTOMERS_WRITE, {"lastName": "Changed"}, 200),
    ]
    mismatches: list[str] = []
    unauthorized_successes: list[str] = []
    allowed = {w.path: 0 for w in writes}
    for caller in world.callers.values():
        for write in writes:
            response = await anonymous.request(write.method, write.path, json=write.body, headers=caller.headers)
            expected = (401 if caller.token is None else 403 if write.needs not in caller.grants
                        else write.success)
            if response.status_code != expected:
                mismatches.append(f"{caller.name:>20} {write.method} {write.path}: expected {expected}, "
                                  f"got {response.status_code}: {response.text[:200]}")
            if 200 <= response.status_code < 300:
                allowed[write.path] += 1
                if expected != write.success:
                    unauthorized_successes.append(f"{caller.name} {write.method} {write.path}")
    assert not unauthorized_successes, unauthorized_successes
    assert not mismatches, "\n".join(mismatches)
    # the refusals wrote nothing: only the permitted callers' customers exist
    customers = await sql_container.application.customers().list(CustomerFilters(), PageRequest(limit=100))
    assert customers.total == len(world.customers) + allowed["/api/customers"]
    # named cells of the matrix
    c = world.callers
    agent_post = await anonymous.post("/api/customers", json=writes[0].body, headers=c["A1"].headers)
    assert agent_post.status_code == 403 and agent_post.json()["error"]["code"] == "forbidden"
    viewer_patch = await anonymous.patch(f"/api/policies/{policy}", json={"sumAssured": 1}, headers=c["viewer"].headers)
    assert viewer_patch.status_code == 403
    for method, path, body in (("POST", "/api/customers", writes[0].body),
                               ("PATCH", f"/api/policies/{policy}", {"sumAssured": 1})):
        outsider = await anonymous.request(method, path, json=body)
        assert outsider.status_code == 401 and outsider.json()["error"]["code"] == "unauthorized"
    current = await anonymous.get(f"/api/policies/{policy}", headers=c["viewer"].headers)
    assert current.json()["data"]["sumAssured"] == 999999  # the last permitted write, not the refused ones
