"""One ingestion per upload: a PostgreSQL session-level advisory lock, released when its connection ends.

A worker killed with SIGKILL drops its connection, so the lock is freed by the server itself and a resumed
job can take it at once; no lease to expire, no clock to trust.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from adapters.asyncpg.read_pool import AsyncpgReadPool

__all__ = ["AdvisoryUploadLocks"]

_NAMESPACE = 0x55504C  # "UPL": the first key of the two-key advisory lock, so other locks never collide


class AdvisoryUploadLocks:
    def __init__(self, pool: AsyncpgReadPool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def hold(self, upload_id: int) -> AsyncIterator[bool]:
        async with self._pool.acquire() as conn:
            taken = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", _NAMESPACE, upload_id))
            try:
                yield taken
            finally:
                if taken:
                    await conn.execute("SELECT pg_advisory_unlock($1, $2)", _NAMESPACE, upload_id)
