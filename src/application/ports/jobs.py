"""The job-queue port the outbox relay hands jobs to."""

from __future__ import annotations

from typing import Protocol

from application.ports.uow import Job

__all__ = ["JobQueue"]


class JobQueue(Protocol):
    async def enqueue(self, job: Job, *, job_id: str) -> None:
        """Enqueue once: a second enqueue with the same job id is a no-op."""
        ...
