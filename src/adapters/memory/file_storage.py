"""The in-memory FileStorage: objects are bytes in a dict, with the key rules and errors of the real ones."""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import AsyncIterator
from pathlib import Path

from adapters.storage.local_file_storage import COPY_CHUNK, check_key, copy_atomically
from application.uploads.ports import StoredFile

__all__ = ["InMemoryFileStorage"]


def _read_chunked(source: Path) -> bytes:
    buffer = bytearray()
    with open(source, "rb") as src:
        while chunk := src.read(COPY_CHUNK):
            buffer += chunk
    return bytes(buffer)


class InMemoryFileStorage:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.content_types: dict[str, str] = {}

    async def put_file(self, key: str, source: Path, *, content_type: str, sha256: str | None = None
                       ) -> StoredFile:
        check_key(key)
        data = await asyncio.to_thread(_read_chunked, source)
        self.objects[key] = data
        self.content_types[key] = content_type
        return StoredFile(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    async def fetch_to(self, key: str, target: Path) -> None:
        data = self._get(key)
        await asyncio.to_thread(copy_atomically, io.BytesIO(data), Path(target))

    async def open_stream(self, key: str, *, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """The object's bytes as they were when iteration began; FileNotFoundError on the first iteration."""
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        data = self._get(key)
        for start in range(0, len(data), chunk_size):
            yield data[start:start + chunk_size]

    async def delete(self, key: str) -> None:
        check_key(key)
        self.objects.pop(key, None)
        self.content_types.pop(key, None)

    def _get(self, key: str) -> bytes:
        try:
            return self.objects[check_key(key)]
        except KeyError:
            raise FileNotFoundError(f"no stored file under {key!r}") from None
