"""The SQL outbox: buffered jobs written at commit, claimed with FOR UPDATE SKIP LOCKED."""

from __future__ import annotations

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.tables.shared import outbox
from application.ports.uow import Job, OutboxMessage

__all__ = ["SqlAlchemyOutbox"]


class SqlAlchemyOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._pending: list[Job] = []

    def add(self, job: Job) -> None:
        self._pending.append(job)

    async def flush(self) -> None:
        if not self._pending:
            return
        rows = [{"job_name": j.name, "args": j.args, "job_key": j.key} for j in self._pending]
        await self._session.execute(insert(outbox), rows)
        self._pending.clear()

    async def claim(self, limit: int) -> list[OutboxMessage]:
        stmt = (select(outbox.c.id, outbox.c.job_name, outbox.c.args, outbox.c.job_key)
                .where(outbox.c.relayed_at.is_(None)).order_by(outbox.c.id).limit(limit)
                .with_for_update(skip_locked=True))
        result = await self._session.execute(stmt)
        return [OutboxMessage(id=r.id, job=Job(name=r.job_name, args=r.args, key=r.job_key))
                for r in result]

    async def mark_relayed(self, ids: list[int]) -> None:
        if ids:
            await self._session.execute(
                update(outbox).where(outbox.c.id.in_(ids)).values(relayed_at=func.now()))
