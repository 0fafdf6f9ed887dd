"""Differential test: the in-memory read model answers every list query exactly as PostgreSQL does."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from adapters.system.clock import FixedClock
from application.policies.ports import CaseFilters, CustomerFilters, PolicyFilters
from application.shared.pagination import PageRequest, SortKey
from application.shared.visibility import EVERYTHING, Visibility
from entrypoints.container import AppContainer, build_memory_container
from tests.conftest import NOW, settings_for_tests
from tests.factories import TODAY, add_staff, new_customer, new_policy, set_case_owners

FIRST = ["Asha", "Ravi", "Meera", "Vikram", "Zoya", "Arjun"]
LAST = ["Rao", "Iyer", "Menon", "Khan", "Das", "Nair"]
TYPES = ["motor", "health", "life", "travel"]
POLICY_SORTS = ["renewalDate", "endDate", "startDate", "premiumAmount", "policyNumber", "createdAt", "status"]
CASE_SORTS = ["createdAt", "renewalDate", "renewalAmount", "priority", "status", "caseNumber"]


USER_BRANCHES: list[int | None] = [0, 0, 1, 2, None]  # five users over three branches, one in none


async def _load(container: AppContainer, rng: random.Random) -> tuple[list[int], list[int]]:
    """The same random book on either container; returns its branch and user ids (the same rng picks, by index)."""
    branch_ids, user_ids = await add_staff(container, branch_count=3, user_branches=USER_BRANCHES)
    customers = container.application.customers()
    policies = container.application.policies()
    ids = []
    for i in range(12):
        view = await customers.register(new_customer(
            first_name=rng.choice(FIRST), last_name=rng.choice(LAST), email=f"c{i}@example.in",
            kyc_status=rng.choice(["pending", "verified"])))
        ids.append(view.id)
    for _ in range(40):
        days = rng.randrange(-20, 90)
        await policies.issue(new_policy(
            rng.choice(ids), renewal_in_days=days, policy_type=rng.choice(TYPES),
            premium_amount=Decimal(rng.choice([900, 4000, 12000, 52000, 75000])),
            status=rng.choice(["active", "active", "active", "lapsed"]),
            branch_id=rng.choice([None, *branch_ids])))
    cases = container.application.cases()
    await cases.open_due_cases()
    for case in (await cases.list(CaseFilters(), PageRequest(limit=100), EVERYTHING)).items:
        await set_case_owners(container, case.id, assigned_to=rng.choice([None, *user_ids]),
                              escalated_to=rng.choice([None, None, None, *user_ids]))
    return branch_ids, user_ids


def _visibility(rng: random.Random) -> tuple[str, int, int]:
    """A random reach over indexes into the users and branches: all, own, branch, or branch with no branch."""
    reach = rng.choice(["all", "own", "branch", "branch-none"])
    return reach, rng.randrange(len(USER_BRANCHES)), rng.randrange(3)


def _as_visibility(pick: tuple[str, int, int], branch_ids: list[int], user_ids: list[int]) -> Visibility:
    reach, user, branch = pick
    if reach == "all":
        return EVERYTHING
    if reach == "own":
        return Visibility(reach="own", user_id=user_ids[user])
    return Visibility(reach="branch", user_id=user_ids[user],
                      branch_id=None if reach == "branch-none" else branch_ids[branch])


def _sort(rng: random.Random, fields: list[str]) -> tuple[SortKey, ...]:
    return tuple(SortKey(f, rng.random() < 0.5) for f in rng.sample(fields, rng.randrange(0, 3)))


def _page(rng: random.Random, fields: list[str]) -> PageRequest:
    return PageRequest(page=rng.randrange(1, 4), limit=rng.choice([3, 5, 10]), sort=_sort(rng, fields))


def _summary(page: Any) -> tuple[list[int], int]:
    return [int(item.id) for item in page.items], page.total


class TickingClock(FixedClock):
    """Each reading is a millisecond later, as each PostgreSQL transaction's now() is."""

    def now(self) -> datetime:
        self.advance(timedelta(milliseconds=1))
        return super().now()


async def test_memory_and_postgres_read_models_agree(sql_container: AppContainer) -> None:
    memory_container = build_memory_container(settings_for_tests(REDIS_URL=""))
    memory_container.core.clock.override(TickingClock(NOW))
    memory_staff = await _load(memory_container, random.Random(11))
    sql_staff = await _load(sql_container, random.Random(11))
    rng = random.Random(2026)
    for _ in range(60):
        policy_filters = PolicyFilters(
            status=tuple(rng.sample(["active", "lapsed"], rng.randrange(0, 2))),
            policy_type=tuple(rng.sample(TYPES, rng.randrange(0, 3))),
            renewal_from=TODAY + timedelta(days=rng.randrange(-30, 30)) if rng.random() < 0.4 else None,
            renewal_to=TODAY + timedelta(days=rng.randrange(0, 100)) if rng.random() < 0.4 else None,
            q=rng.choice([None, None, "asha", "ra", "POL", "me iy"]))
        page = _page(rng, POLICY_SORTS)
        memory = await memory_container.application.policies().list(policy_filters, page)
        sql = await sql_container.application.policies().list(policy_filters, page)
        assert _summary(memory) == _summary(sql), (policy_filters, page)

        case_filters = CaseFilters(
            status=("new",) if rng.random() < 0.3 else (),
            priority=tuple(rng.sample(["low", "medium", "high", "urgent"], rng.randrange(0, 3))),
            q=rng.choice([None, "RC-", "zoya"]))
        page = _page(rng, CASE_SORTS)
        pick = _visibility(rng)
        memory = await memory_container.application.cases().list(
            case_filters, page, _as_visibility(pick, *memory_staff))
        sql = await sql_container.application.cases().list(case_filters, page, _as_visibility(pick, *sql_staff))
        assert _summary(memory) == _summary(sql), (case_filters, page, pick)

        customer_filters = CustomerFilters(kyc_status=("verified",) if rng.random() < 0.3 else (),
                                           q=rng.choice([None, "meera", "CUST-00001"]))
        page = _page(rng, ["createdAt", "lastName", "firstName", "customerCode"])
        memory = await memory_container.application.customers().list(customer_filters, page)
        sql = await sql_container.application.customers().list(customer_filters, page)
        assert _summary(memory) == _summary(sql), (customer_filters, page)
