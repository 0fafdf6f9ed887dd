"""In-process upload locks with the advisory locks' semantics (try, never wait)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["InMemoryUploadLocks"]


class InMemoryUploadLocks:
    def __init__(self) -> None:
        self.held: set[int] = set()

    @asynccontextmanager
    async def hold(self, upload_id: int) -> AsyncIterator[bool]:
        if upload_id in self.held:
            yield False
            return
        self.held.add(upload_id)
        try:
            yield True
        finally:
            self.held.discard(upload_id)
