"""Kept files on the local disk: the key `uploads/2026/11/abc.xlsx` is the file `<root>/uploads/2026/11/abc.xlsx`.

Keys are relative POSIX paths; `check_key` refuses anything that could leave the root (`..`, absolute paths,
backslashes, NUL, empty or `.` segments), and the resolved path must still lie under the root (a symlink inside
the root cannot lead out). A stored file is written to a temporary file in its final directory and renamed into
place (`os.replace`), so readers see the old content or the new, never a half-written file. All blocking file IO
runs in worker threads (`asyncio.to_thread`), chunk by chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from application.uploads.ports import StoredFile

__all__ = ["COPY_CHUNK", "LocalFileStorage", "check_key", "copy_atomically"]

COPY_CHUNK = 1024 * 1024


def check_key(key: str) -> str:
    """Return `key` when it is a safe relative POSIX path, else raise ValueError (shared by every FileStorage)."""
    if not key or "\\" in key or "\x00" in key:
        raise ValueError(f"unsafe storage key {key!r}: empty, or contains a backslash or NUL")
    if key.startswith("/"):
        raise ValueError(f"unsafe storage key {key!r}: absolute path")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"unsafe storage key {key!r}: empty, '.' or '..' path segment")
    return key


def copy_atomically(source: BinaryIO, target: Path, *, chunk_size: int = COPY_CHUNK) -> tuple[int, str]:
    """Copy `source` to a temporary file beside `target`, then rename it into place (blocking; run in a thread).

    Returns the size and the SHA-256 (hex) of what was written. `target`'s directory must exist.
    """
    digest = hashlib.sha256()
    size = 0
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(chunk_size):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    return size, digest.hexdigest()


def link_atomically(source: Path, target: Path) -> int | None:
    """Hard-link `source` beside `target`, sync it and rename it into place; its size, or None when the two
    are on different file systems (or links are not supported) and nothing was done."""
    temp_name = target.parent / f".{target.name}.{os.getpid()}.{id(source)}.link"
    try:
        os.link(source, temp_name)
    except OSError:
        return None
    try:
        fd = os.open(temp_name, os.O_RDONLY)
        try:
            os.fsync(fd)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    return size


class LocalFileStorage:
    def __init__(self, root: Path) -> None:
        """Keep files under the directory `root` (created on the first write)."""
        self._root = Path(root)

    @property
    def root(self) -> Path:
        return self._root

    def path_for(self, key: str) -> Path:
        """The file of `key`; raises ValueError when the key is unsafe or would resolve outside the root."""
        path = self._root / check_key(key)
        if not path.resolve().is_relative_to(self._root.resolve()):
            raise ValueError(f"unsafe storage key {key!r}: resolves outside the storage root")
        return path

    async def put_file(self, key: str, source: Path, *, content_type: str, sha256: str | None = None
                       ) -> StoredFile:
        """With the digest given and `source` on the same disk: a hard link beside the final file, synced, then
        renamed into place (no copy). Otherwise copy in chunks beside it, hashing as it goes, then rename."""
        target = self.path_for(key)

        def put() -> tuple[int, str]:
            target.parent.mkdir(parents=True, exist_ok=True)
            if sha256 is not None and (linked := link_atomically(source, target)) is not None:
                return linked, sha256
            with open(source, "rb") as src:
                return copy_atomically(src, target)

        size, digest = await asyncio.to_thread(put)
        return StoredFile(key=key, size=size, sha256=digest)

    async def fetch_to(self, key: str, target: Path) -> None:
        """Copy the stored file to `target` (written beside it, then renamed); FileNotFoundError when missing."""
        path = self.path_for(key)

        def fetch() -> None:
            with self._open(path, key) as src:
                copy_atomically(src, Path(target))

        await asyncio.to_thread(fetch)

    async def open_stream(self, key: str, *, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """The file's bytes chunk by chunk; FileNotFoundError (on the first iteration) when missing."""
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        path = self.path_for(key)
        src = await asyncio.to_thread(self._open, path, key)
        try:
            while chunk := await asyncio.to_thread(src.read, chunk_size):
                yield chunk
        finally:
            await asyncio.to_thread(src.close)

    async def delete(self, key: str) -> None:
        path = self.path_for(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    @staticmethod
    def _open(path: Path, key: str) -> BinaryIO:
        try:
            return open(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise FileNotFoundError(f"no stored file under {key!r}") from None
