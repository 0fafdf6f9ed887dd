"""Use cases on the in-memory container: events, jobs, audit and all-or-nothing writes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory.store import MemoryStore
from application.policies.commands import PolicyChanges
from application.policies.job_names import OPEN_RENEWAL_CASE_FOR_POLICY
from domain.shared.errors import ValidationFailed
from entrypoints.container import AppContainer
from tests.factories import new_customer, new_policy


def store_of(container: AppContainer) -> MemoryStore:
    store: MemoryStore = container.adapters.store()
    return store


async def test_issuing_a_policy_writes_a_job_to_open_its_case(memory_container: AppContainer) -> None:
    customer = await memory_container.application.customers().register(new_customer())
    policy = await memory_container.application.policies().issue(new_policy(customer.id))
    jobs = [row.job for row in store_of(memory_container).tables.outbox.values()]
    assert [(j.name, j.args) for j in jobs] == [(OPEN_RENEWAL_CASE_FOR_POLICY, {"policy_id": int(policy.id)})]
    audit = [(a.action, a.entity_type, a.entity_id) for a in store_of(memory_container).tables.audit]
    assert audit == [("policies.customer_registered", "customer", 1), ("policies.policy_issued", "policy", 1)]


async def test_only_date_or_status_changes_reschedule_the_case_job(memory_container: AppContainer) -> None:
    customer = await memory_container.application.customers().register(new_customer())
    policies = memory_container.application.policies()
    policy = await policies.issue(new_policy(customer.id))
    await policies.update(policy.id, PolicyChanges(sum_assured=500000))
    await policies.update(policy.id, PolicyChanges(renewal_date=policy.renewal_date - timedelta(days=3)))
    await policies.update(policy.id, PolicyChanges(status="active"))  # no change at all: no event
    names = [row.job.name for row in store_of(memory_container).tables.outbox.values()]
    assert names == [OPEN_RENEWAL_CASE_FOR_POLICY, OPEN_RENEWAL_CASE_FOR_POLICY]


async def test_invalid_policy_writes_nothing_at_all(memory_container: AppContainer) -> None:
    customer = await memory_container.application.customers().register(new_customer())
    store = store_of(memory_container)
    before = (len(store.tables.policies), len(store.tables.outbox), len(store.tables.audit))
    with pytest.raises(ValidationFailed):
        await memory_container.application.policies().issue(new_policy(customer.id, policy_type="spaceship"))
    assert (len(store.tables.policies), len(store.tables.outbox), len(store.tables.audit)) == before
