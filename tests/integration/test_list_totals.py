"""List totals: exact when small, one cached exact count when large, flagged while reused."""

from __future__ import annotations

from adapters.sqlalchemy.listing import TotalCounter
from adapters.sqlalchemy.read_models.policies import SqlAlchemyPoliciesReadModel
from application.policies.ports import PolicyFilters
from application.shared.pagination import PageRequest
from entrypoints.container import AppContainer
from tests.factories import new_customer, new_policy


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
    read = SqlAlchemyPoliciesReadModel(sql_container.adapters.engine(), currency="INR",
                                       counter=TotalCounter(cap=2, ttl=10, monotonic=time))
    first = await read.list_policies(PolicyFilters(), PageRequest(limit=1))
    assert (first.total, first.total_is_estimate) == (4, False)
    await issue(new_policy(customer.id))
    reused = await read.list_policies(PolicyFilters(), PageRequest(limit=1, page=3))
    assert (reused.total, reused.total_is_estimate) == (4, True)
    time.now += 11
    fresh = await read.list_policies(PolicyFilters(), PageRequest(limit=1))
    assert (fresh.total, fresh.total_is_estimate) == (5, False)
    small = await read.list_policies(PolicyFilters(policy_type=("health",)), PageRequest(limit=1))
    assert (small.total, small.total_is_estimate) == (0, False)
