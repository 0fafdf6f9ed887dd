"""The job-queue port: arq on the real Redis and its in-memory twin, under the same tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import default_queue_name

from adapters.arq.arq_job_queue import ArqJobQueue
from adapters.memory.jobs import InMemoryJobQueue
from application.ports.jobs import JobQueue
from application.ports.uow import Job
from tests.conftest import TEST_REDIS_URL


class QueueUnderTest:
    def __init__(self, queue: JobQueue, count: object) -> None:
        self.queue = queue
        self.count = count  # async () -> int: jobs waiting


@pytest.fixture
async def arq_pool() -> AsyncIterator[ArqRedis]:
    pool = await create_pool(RedisSettings.from_dsn(TEST_REDIS_URL))
    await pool.flushdb()
    yield pool
    await pool.flushdb()
    await pool.aclose()


@pytest.fixture(params=["memory", "redis"])
def queue(request: pytest.FixtureRequest) -> QueueUnderTest:
    if request.param == "memory":
        memory = InMemoryJobQueue()

        async def memory_count() -> int:
            return len(memory.jobs)
        return QueueUnderTest(memory, memory_count)
    pool: ArqRedis = request.getfixturevalue("arq_pool")

    async def redis_count() -> int:
        return int(await pool.zcard(default_queue_name))
    return QueueUnderTest(ArqJobQueue(pool), redis_count)


async def test_each_job_id_is_enqueued_once(queue: QueueUnderTest) -> None:
    job = Job(name="policies.open_renewal_case_for_policy", args={"policy_id": 7})
    await queue.queue.enqueue(job, job_id="outbox-1")
    await queue.queue.enqueue(job, job_id="outbox-1")
    await queue.queue.enqueue(Job(name="noop"), job_id="outbox-2")
    assert await queue.count() == 2  # type: ignore[operator]
