"""List totals: exact when small, one cached exact count when large, flagged while reused."""

from __future__ import annotations

import asyncio

from adapters.sqlalchemy.listing import TotalCounter
from adapters.sqlalchemy.read_models.policies import SqlAlchemyPoliciesReadModel
from application.policies.ports import CaseFilters, PolicyFilters
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING, Visibility
from entrypoints.container import AppContainer
from tests.factories import new_customer, new_policy, seed_owned_cases


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_large_totals_are_counted_once_per_ttl_and_flagged(sql_container: AppContainer) -> None:
    customer = await sql_container.application.customers().register(new_customer())
    issue = sql_container.application.policies().issue
    for _ in range(4):
        await issue(new_policy(customer.id))
    time = FakeTime()
    reads = sql_container.adapters.read_pool()
    read = SqlAlchemyPoliciesReadModel(reads, currency="INR",
                                       counter=TotalCounter(reads, cap=2, ttl=10, monotonic=time))
    first = await read.list_policies(PolicyFilters(), PageRequest(limit=1))
    assert (first.total, first.total_is_estimate) == (4, False)
    await issue(new_policy(customer.id))
    reused = await read.list_policies(PolicyFilters(), PageRequest(limit=1, page=3))
    assert (reused.total, reused.total_is_estimate) == (4, True)
    time.now += 11
    stale = await read.list_policies(PolicyFilters(), PageRequest(limit=1))
    assert (stale.total, stale.total_is_estimate) == (4, True)  # served at once; one refresh started
    for _ in range(500):  # the refresh runs in the background; allow a slow machine 5 s
        await asyncio.sleep(0.01)
        refreshed = await read.list_policies(PolicyFilters(), PageRequest(limit=1))
        if refreshed.total == 5:
            break
    assert (refreshed.total, refreshed.total_is_estimate) == (5, True)
    small = await read.list_policies(PolicyFilters(policy_type=("health",)), PageRequest(limit=1))
    assert (small.total, small.total_is_estimate) == (0, False)


async def test_concurrent_first_requests_share_one_exact_count(sql_container: AppContainer) -> None:
    customer = await sql_container.application.customers().register(new_customer())
    for _ in range(4):
        await sql_container.application.policies().issue(new_policy(customer.id))
    reads = sql_container.adapters.read_pool()
    counter = TotalCounter(reads, cap=2, ttl=10)
    calls = 0
    original = counter._exact

    async def counted(*args: object) -> int:
        nonlocal calls
        calls += 1
        return await original(*args)  # type: ignore[arg-type]

    counter._exact = counted  # type: ignore[method-assign]
    read = SqlAlchemyPoliciesReadModel(reads, currency="INR", counter=counter)
    pages = await asyncio.gather(*(read.list_policies(PolicyFilters(), PageRequest(limit=1)) for _ in range(8)))
    assert {page.total for page in pages} == {4} and calls == 1


async def test_cached_case_totals_are_never_shared_across_visibilities(sql_container: AppContainer) -> None:
    s = await seed_owned_cases(sql_container)
    reads = sql_container.adapters.read_pool()
    counter = TotalCounter(reads, cap=1, ttl=10, monotonic=FakeTime())
    read = SqlAlchemyPoliciesReadModel(reads, currency="INR", counter=counter)
    expected = [
        (EVERYTHING, 5),
        (Visibility(reach="own", user_id=s.agent_a), 2),
        (Visibility(reach="own", user_id=s.agent_b), 3),
        (Visibility(reach="branch", user_id=s.agent_a, branch_id=s.branch1), 3),
        (Visibility(reach="branch", user_id=s.agent_b, branch_id=s.branch2), 4),
        (Visibility(reach="branch", user_id=s.agent_c, branch_id=s.branch2), 2),
    ]
    for visibility, total in expected:  # each above the cap: one exact count each, then cached
        first = await read.list_cases(CaseFilters(), PageRequest(limit=1), visibility)
        assert (first.total, first.total_is_estimate) == (total, False), visibility
    for visibility, total in expected:
        reused = await read.list_cases(CaseFilters(), PageRequest(limit=1, page=2), visibility)
        assert (reused.total, reused.total_is_estimate) == (total, True), visibility
    assert len(counter._cache) == len(expected)
