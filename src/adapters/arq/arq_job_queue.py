"""Enqueues jobs on arq; arq's job id makes a repeated enqueue a no-op."""

from __future__ import annotations

from arq.connections import ArqRedis

from application.ports.uow import Job

__all__ = ["ArqJobQueue"]


class ArqJobQueue:
    def __init__(self, pool: ArqRedis) -> None:
        self._pool = pool

    async def enqueue(self, job: Job, *, job_id: str) -> None:
        await self._pool.enqueue_job(job.name, _job_id=job_id, **job.args)
