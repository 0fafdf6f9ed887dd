"""The outbox relay into arq on the real Redis: two relays, each committed row enqueued once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import default_queue_name

from adapters.arq.arq_job_queue import ArqJobQueue
from application.ports.uow import Job
from application.shared.outbox_relay import OutboxRelay
from entrypoints.container import AppContainer
from tests.conftest import TEST_REDIS_URL


@pytest.fixture
async def arq_pool() -> AsyncIterator[ArqRedis]:
    pool = await create_pool(RedisSettings.from_dsn(TEST_REDIS_URL))
    await pool.flushdb()
    yield pool
    await pool.flushdb()
    await pool.aclose()


def relay(container: AppContainer, queue: ArqJobQueue, batch_size: int) -> OutboxRelay:
    return OutboxRelay(uow=container.adapters.policies_uow, queue=queue, batch_size=batch_size)


async def test_relay_into_arq_on_redis_enqueues_each_job_once(sql_container: AppContainer,
                                                              arq_pool: ArqRedis) -> None:
    async with sql_container.adapters.policies_uow() as uow:
        for i in range(50):
            uow.outbox.add(Job(name="noop", args={"n": i}))
        await uow.commit()
    queue = ArqJobQueue(arq_pool)
    counts = await asyncio.gather(relay(sql_container, queue, 10).relay_pending(),
                                  relay(sql_container, queue, 10).relay_pending())
    assert sum(counts) == 50
    assert await arq_pool.zcard(default_queue_name) == 50
    # a relay that crashed after enqueueing but before its commit retries harmlessly: same job id
    await queue.enqueue(Job(name="noop", args={"n": 0}), job_id="outbox-1")
    assert await arq_pool.zcard(default_queue_name) == 50
