"""The transactional outbox: nothing leaves for a rolled-back unit; committed jobs leave exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from application.ports.uow import Job
from application.shared.outbox_relay import OutboxRelay
from domain.shared.errors import ValidationFailed
from entrypoints.container import AppContainer
from tests.factories import new_customer, new_policy


class RecordingQueue:
    """Records every enqueue; with a barrier, each relay's first enqueue waits until both have claimed."""

    def __init__(self, job_ids: list[str] | None = None, barrier: asyncio.Barrier | None = None) -> None:
        self.job_ids = job_ids if job_ids is not None else []
        self._barrier = barrier

    async def enqueue(self, job: Job, *, job_id: str) -> None:
        if self._barrier is not None:
            barrier, self._barrier = self._barrier, None
            await asyncio.wait_for(barrier.wait(), timeout=10)
        await asyncio.sleep(0.001)
        self.job_ids.append(job_id)


def relay(container: AppContainer, queue: object, batch_size: int = 25) -> OutboxRelay:
    return OutboxRelay(uow=container.adapters.policies_uow, queue=queue, batch_size=batch_size)  # type: ignore[arg-type]


async def test_rolled_back_unit_enqueues_nothing(container: AppContainer) -> None:
    async with container.adapters.policies_uow() as uow:
        uow.outbox.add(Job(name="policies.open_renewal_case_for_policy", args={"policy_id": 1}))
        # leaves without commit
    with pytest.raises(ValidationFailed):  # a use case that fails validation writes no job either
        await container.application.policies().issue(new_policy(customer_id=77))
    queue = RecordingQueue()
    assert await relay(container, queue).relay_pending() == 0
    assert queue.job_ids == []


async def test_committed_use_case_relays_its_job_once(container: AppContainer) -> None:
    customer = await container.application.customers().register(new_customer())
    policy = await container.application.policies().issue(new_policy(customer.id, renewal_in_days=10))
    queue = RecordingQueue()
    assert await relay(container, queue).relay_pending() == 1
    assert await relay(container, queue).relay_pending() == 0  # already relayed
    assert len(queue.job_ids) == 1
    assert await container.application.cases().open_case_for_policy(policy.id) == 1  # what the job does


async def test_two_concurrent_relays_relay_each_committed_job_exactly_once(container: AppContainer) -> None:
    async with container.adapters.policies_uow() as uow:
        for i in range(200):
            uow.outbox.add(Job(name="noop", args={"n": i}))
        await uow.commit()
    job_ids: list[str] = []
    both_claimed = asyncio.Barrier(2)  # each relay holds a claimed batch before either enqueues
    first = relay(container, RecordingQueue(job_ids, both_claimed))
    second = relay(container, RecordingQueue(job_ids, both_claimed))
    counts = await asyncio.gather(first.relay_pending(), second.relay_pending())
    assert sum(counts) == 200 and all(count > 0 for count in counts), counts
    assert len(job_ids) == 200 and max(Counter(job_ids).values()) == 1
