"""Run the worker's jobs in the test, as the worker would: every outbox job through its registered task function,
and the daily crons by name, on the test's container and clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from arq import Retry
from sqlalchemy import text

from entrypoints.container import AppContainer
from entrypoints.worker.settings import job_context, worker_settings

Task = Callable[..., Awaitable[Any]]


class JobRunner:
    """`drain()` runs queued outbox jobs (and those they queue) until none is left; `cron(name)` runs one cron."""

    def __init__(self, container: AppContainer, *, skip: frozenset[str] = frozenset()) -> None:
        self._container = container
        settings = worker_settings(container.settings)
        self._functions: dict[str, Task] = {f.name: f.coroutine for f in settings["functions"]}
        self._crons: dict[str, Task] = {c.name: c.coroutine for c in settings["cron_jobs"]}
        self._skip = skip
        self.ran: list[tuple[str, dict[str, Any], Any]] = []
        self.deferred: list[tuple[str, dict[str, Any]]] = []
        self.ctx: dict[str, Any] = {**job_context(container), "job_try": 1, "job_id": "test"}

    async def _claim(self) -> list[tuple[str, dict[str, Any]]]:
        engine = self._container.adapters.engine()
        assert engine is not None, "the SQL container"
        async with engine.begin() as conn:
            rows = (await conn.execute(text(
                "UPDATE outbox SET relayed_at = now() WHERE id IN (SELECT id FROM outbox WHERE relayed_at IS NULL "
                "ORDER BY id FOR UPDATE SKIP LOCKED) RETURNING id, job_name, args"))).all()
        return [(str(r.job_name), dict(r.args or {})) for r in sorted(rows, key=lambda r: int(r.id))]

    async def drain(self, *, limit: int = 500) -> list[str]:
        """Run every queued job, in order, then those they queued; the names of the jobs run."""
        names: list[str] = []
        while queued := await self._claim():
            for name, args in queued:
                if name in self._skip:
                    continue
                names.append(name)
                assert len(names) <= limit, f"the jobs do not settle: {names[-20:]}"
                try:
                    result = await self._functions[name](self.ctx, **args)
                except Retry:
                    self.deferred.append((name, args))  # quiet hours or a transient failure: arq would retry
                    continue
                self.ran.append((name, args, result))
        return names

    async def cron(self, name: str) -> Any:
        """Run the cron job `name` once (then drain what it queued)."""
        result = await self._crons[name](self.ctx)
        await self.drain()
        return result

    @property
    def cron_names(self) -> list[str]:
        return sorted(self._crons)
