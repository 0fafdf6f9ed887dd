"""Kept files in Amazon S3 (or an S3-compatible store) on an injected aioboto3 `s3` client.

The object of key `k` is `<prefix>k` in the bucket; keys follow the same rules as on the local disk (`check_key`).
`put_file` reads the file twice, chunk by chunk and off the event loop: once for its size and SHA-256 (which go
into the object's metadata as `x-amz-meta-sha256`), then for the upload itself (`upload_fileobj`: one PutObject
below 8 MiB, a multipart upload with 8 MiB parts above, at most a few parts in memory at once). The upload pass is
hashed too; if the file changed in between, the object is removed and RuntimeError raised, so the recorded
SHA-256 always describes what is stored. A missing object (NoSuchKey / 404) is FileNotFoundError; other S3 errors
propagate as botocore's ClientError.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO

from boto3.s3.transfer import TransferConfig  # type: ignore[import-untyped]
from botocore.exceptions import ClientError

from adapters.storage.local_file_storage import COPY_CHUNK, check_key
from application.uploads.ports import StoredFile

__all__ = ["SHA256_METADATA", "S3FileStorage"]

SHA256_METADATA = "sha256"
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
_MIB = 1024 * 1024
# 8 MiB parts (S3 wants at least 5 MiB but the last); two parts in flight and one queued bound the memory used
_TRANSFER = TransferConfig(multipart_threshold=8 * _MIB, multipart_chunksize=8 * _MIB, max_concurrency=2,
                           max_io_queue=1, io_chunksize=COPY_CHUNK)


def _is_missing(exc: ClientError) -> bool:
    """The object is missing (not the bucket: NoSuchBucket is a 404 too, and a deployment error)."""
    return str(exc.response.get("Error", {}).get("Code", "")) in _MISSING


def _size_and_sha256(source: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(source, "rb") as src:
        while chunk := src.read(COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


class _HashingReader:
    """A file read off the event loop for `upload_fileobj` (its `read` may be awaitable), hashing what it hands out."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._digest = hashlib.sha256()
        self.size = 0

    async def read(self, size: int = -1) -> bytes:
        chunk = await asyncio.to_thread(self._file.read, size)
        self._digest.update(chunk)
        self.size += len(chunk)
        return chunk

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


class _PartialFile:
    """A temporary file beside `target`, renamed onto it by `commit` (blocking methods; call them in a thread)."""

    def __init__(self, target: Path) -> None:
        self._target = target
        fd, self._name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
        self._file = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def commit(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._name, self._target)

    def discard(self) -> None:
        self._file.close()
        with contextlib.suppress(OSError):
            os.unlink(self._name)


class S3FileStorage:
    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        """Wrap an open aioboto3 `s3` client (created once per process and injected); `prefix` is a key folder."""
        if not bucket:
            raise ValueError("S3 file storage needs a bucket name (S3_BUCKET_NAME)")
        prefix = prefix.strip("/")
        self._client = client
        self._bucket = bucket
        self._prefix = f"{check_key(prefix)}/" if prefix else ""

    @property
    def bucket(self) -> str:
        return self._bucket

    def object_key(self, key: str) -> str:
        """The S3 object key of `key`; raises ValueError when the key is unsafe."""
        return self._prefix + check_key(key)

    async def put_file(self, key: str, source: Path, *, content_type: str, sha256: str | None = None
                       ) -> StoredFile:
        object_key = self.object_key(key)
        size, digest = await asyncio.to_thread(_size_and_sha256, source)  # S3 reads the file anyway: check it
        extra = {"ContentType": content_type, "Metadata": {SHA256_METADATA: digest}}
        file: BinaryIO = await asyncio.to_thread(open, source, "rb")
        try:
            reader = _HashingReader(file)
            await self._client.upload_fileobj(reader, self._bucket, object_key, ExtraArgs=extra, Config=_TRANSFER)
        finally:
            await asyncio.to_thread(file.close)
        if (reader.size, reader.hexdigest()) != (size, digest):
            await self._client.delete_object(Bucket=self._bucket, Key=object_key)
            raise RuntimeError(f"{source} changed while it was being stored under {key!r}")
        return StoredFile(key=key, size=size, sha256=digest)

    async def fetch_to(self, key: str, target: Path) -> None:
        """Stream the object into a temporary file beside `target`, then rename it into place."""
        body = (await self._get_object(key))["Body"]
        async with body:
            partial = await asyncio.to_thread(_PartialFile, Path(target))
            try:
                buffer = bytearray()
                while chunk := await body.read(COPY_CHUNK):
                    buffer += chunk
                    if len(buffer) >= COPY_CHUNK:
                        await asyncio.to_thread(partial.write, bytes(buffer))
                        buffer.clear()
                await asyncio.to_thread(partial.write, bytes(buffer))
                await asyncio.to_thread(partial.commit)
            except BaseException:
                await asyncio.to_thread(partial.discard)
                raise

    async def open_stream(self, key: str, *, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """The object's bytes chunk by chunk (at most `chunk_size` each); FileNotFoundError on the first iteration."""
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        body = (await self._get_object(key))["Body"]
        async with body:  # releases the connection, also when the consumer stops early
            while chunk := await body.read(chunk_size):
                yield chunk

    async def delete(self, key: str) -> None:
        try:
            await self._client.delete_object(Bucket=self._bucket, Key=self.object_key(key))
        except ClientError as exc:
            if not _is_missing(exc):
                raise

    async def _get_object(self, key: str) -> dict[str, Any]:
        object_key = self.object_key(key)
        try:
            response: dict[str, Any] = await self._client.get_object(Bucket=self._bucket, Key=object_key)
        except ClientError as exc:
            if _is_missing(exc):
                raise FileNotFoundError(f"no stored file under {key!r}") from None
            raise
        return response
