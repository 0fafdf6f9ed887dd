"""Relays committed outbox rows to the job queue, each exactly once."""

from __future__ import annotations

from collections.abc import Callable

from application.ports.jobs import JobQueue
from application.ports.uow import UnitOfWork

__all__ = ["OutboxRelay"]


class OutboxRelay:
    def __init__(self, *, uow: Callable[[], UnitOfWork], queue: JobQueue, batch_size: int = 200) -> None:
        self._uow = uow
        self._queue = queue
        self._batch_size = batch_size

    async def relay_batch(self) -> int:
        """Claim a batch (rows other relays hold are skipped), enqueue each, mark them relayed."""
        async with self._uow() as uow:
            messages = await uow.outbox.claim(self._batch_size)
            for message in messages:
                # the outbox id is the job id: a retry after a failed commit enqueues nothing new
                await self._queue.enqueue(message.job, job_id=f"outbox-{message.id}")
            await uow.outbox.mark_relayed([m.id for m in messages])
            await uow.commit()
        return len(messages)

    async def relay_pending(self, *, max_batches: int = 50) -> int:
        """Relay batches until the outbox is empty or `max_batches` were sent."""
        total = 0
        for _ in range(max_batches):
            count = await self.relay_batch()
            total += count
            if count < self._batch_size:
                break
        return total
