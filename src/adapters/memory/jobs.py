"""The in-memory job queue: keeps what was enqueued, once per job id."""

from __future__ import annotations

from application.ports.uow import Job

__all__ = ["InMemoryJobQueue"]


class InMemoryJobQueue:
    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}

    async def enqueue(self, job: Job, *, job_id: str) -> None:
        self.jobs.setdefault(job_id, job)
