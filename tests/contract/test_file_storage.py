"""The FileStorage port: in-memory, the local disk and S3 (a moto server) under the same tests."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aioboto3  # type: ignore[import-untyped]
import pytest
from moto.server import ThreadedMotoServer

from adapters.aws import s3_file_storage
from adapters.aws.s3_file_storage import SHA256_METADATA, S3FileStorage
from adapters.memory.file_storage import InMemoryFileStorage
from adapters.storage.local_file_storage import LocalFileStorage, check_key
from application.uploads.ports import FileStorage

BUCKET = "renewals-files"
REGION = "ap-south-1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNSAFE_KEYS = ["", "/etc/passwd", "../outside.txt", "uploads/../../outside.txt", "uploads/./a.xlsx", "uploads//a.xlsx",
               "uploads/", "..", ".", "uploads\\a.xlsx", "..\\outside.txt", "uploads/a\x00.xlsx"]


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
async def s3_client(moto_endpoint: str) -> AsyncIterator[Any]:
    async with aioboto3.Session().client("s3", region_name=REGION, endpoint_url=moto_endpoint,
                                         aws_access_key_id="testing", aws_secret_access_key="testing") as client:
        await client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield client


@pytest.fixture(params=["memory", "local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> FileStorage:
    if request.param == "memory":
        return InMemoryFileStorage()
    if request.param == "local":
        return LocalFileStorage(tmp_path / "files")
    client = request.getfixturevalue("s3_client")
    return S3FileStorage(client, BUCKET, prefix=f"test-{uuid.uuid4().hex}")  # a fresh folder per test


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


async def read_stream(storage: FileStorage, key: str, chunk_size: int = 65536) -> bytes:
    return b"".join([chunk async for chunk in storage.open_stream(key, chunk_size=chunk_size)])


async def test_a_multi_megabyte_file_round_trips_with_its_size_and_sha256(storage: FileStorage, tmp_path: Path) -> None:
    data = os.urandom(9 * 1024 * 1024 + 12345)  # above S3's 8 MiB multipart threshold: two parts
    source = write(tmp_path / "book.xlsx", data)
    stored = await storage.put_file("uploads/2026/11/abc.xlsx", source, content_type=XLSX)
    assert stored.key == "uploads/2026/11/abc.xlsx"
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    target = tmp_path / "fetched.xlsx"
    await storage.fetch_to("uploads/2026/11/abc.xlsx", target)
    assert target.read_bytes() == data
    assert list(tmp_path.glob("*.partial")) == []  # noqa: ASYNC240


async def test_open_stream_yields_the_content_in_chunks(storage: FileStorage, tmp_path: Path) -> None:
    data = os.urandom(300_001)
    await storage.put_file("reports/errors.csv", write(tmp_path / "errors.csv", data), content_type="text/csv")
    chunks = [chunk async for chunk in storage.open_stream("reports/errors.csv", chunk_size=65536)]
    assert b"".join(chunks) == data
    assert len(chunks) > 1 and all(0 < len(chunk) <= 65536 for chunk in chunks)


async def test_an_empty_file_is_stored_and_read_back(storage: FileStorage, tmp_path: Path) -> None:
    stored = await storage.put_file("empty.csv", write(tmp_path / "empty.csv", b""), content_type="text/csv")
    assert (stored.size, stored.sha256) == (0, hashlib.sha256(b"").hexdigest())
    await storage.fetch_to("empty.csv", tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_bytes() == b""
    assert await read_stream(storage, "empty.csv") == b""


async def test_stopping_a_stream_early_is_harmless(storage: FileStorage, tmp_path: Path) -> None:
    data = os.urandom(200_000)
    await storage.put_file("a/b.bin", write(tmp_path / "b.bin", data), content_type="application/octet-stream")
    stream = storage.open_stream("a/b.bin", chunk_size=1000)
    first = await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]
    assert data.startswith(first)
    assert await read_stream(storage, "a/b.bin") == data


async def test_a_missing_key_is_file_not_found(storage: FileStorage, tmp_path: Path) -> None:
    target = tmp_path / "never.xlsx"
    with pytest.raises(FileNotFoundError):
        await storage.fetch_to("uploads/missing.xlsx", target)
    assert not target.exists()
    with pytest.raises(FileNotFoundError):
        await read_stream(storage, "uploads/missing.xlsx")


async def test_a_deleted_key_is_missing(storage: FileStorage, tmp_path: Path) -> None:
    await storage.put_file("uploads/x.csv", write(tmp_path / "x.csv", b"a,b\n1,2\n"), content_type="text/csv")
    await storage.delete("uploads/x.csv")
    with pytest.raises(FileNotFoundError):
        await storage.fetch_to("uploads/x.csv", tmp_path / "out.csv")
    with pytest.raises(FileNotFoundError):
        await read_stream(storage, "uploads/x.csv")


async def test_deleting_a_missing_key_does_nothing(storage: FileStorage) -> None:
    await storage.delete("uploads/never-stored.csv")
    await storage.delete("uploads/never-stored.csv")


async def test_storing_under_the_same_key_replaces_the_content(storage: FileStorage, tmp_path: Path) -> None:
    first = write(tmp_path / "one.csv", b"first version, longer\n")
    await storage.put_file("k/book.csv", first, content_type="text/csv")
    stored = await storage.put_file("k/book.csv", write(tmp_path / "two.csv", b"second\n"), content_type="text/csv")
    assert (stored.size, stored.sha256) == (7, hashlib.sha256(b"second\n").hexdigest())
    assert await read_stream(storage, "k/book.csv") == b"second\n"
    await storage.fetch_to("k/book.csv", tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_bytes() == b"second\n"


async def test_fetch_to_replaces_an_existing_target(storage: FileStorage, tmp_path: Path) -> None:
    await storage.put_file("k/new.csv", write(tmp_path / "new.csv", b"new\n"), content_type="text/csv")
    target = write(tmp_path / "target.csv", b"old content that is longer\n")
    await storage.fetch_to("k/new.csv", target)
    assert target.read_bytes() == b"new\n"


@pytest.mark.parametrize("key", UNSAFE_KEYS)
async def test_unsafe_keys_are_refused(storage: FileStorage, tmp_path: Path, key: str) -> None:
    source = write(tmp_path / "evil.txt", b"evil")
    with pytest.raises(ValueError):
        await storage.put_file(key, source, content_type="text/plain")
    with pytest.raises(ValueError):
        await storage.fetch_to(key, tmp_path / "out.txt")
    with pytest.raises(ValueError):
        await read_stream(storage, key)
    with pytest.raises(ValueError):
        await storage.delete(key)
    assert not (tmp_path / "outside.txt").exists()


# --- adapter specifics -------------------------------------------------------------------------------------


def test_check_key_accepts_relative_posix_paths() -> None:
    for key in ("a", "uploads/2026/11/abc.xlsx", ".hidden/x", "a..b/c..d", "name with spaces.xlsx"):
        assert check_key(key) == key


async def test_local_files_sit_under_the_root_by_key(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "files")
    await storage.put_file("uploads/2026/a.csv", write(tmp_path / "a.csv", b"x"), content_type="text/csv")
    assert (tmp_path / "files" / "uploads" / "2026" / "a.csv").read_bytes() == b"x"
    assert [p.name for p in (tmp_path / "files" / "uploads" / "2026").iterdir()] == ["a.csv"]  # no temp files left


async def test_local_refuses_a_symlink_leading_out_of_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "files"
    root.mkdir()
    (root / "escape").symlink_to(outside, target_is_directory=True)
    storage = LocalFileStorage(root)
    with pytest.raises(ValueError):
        await storage.put_file("escape/x.txt", write(tmp_path / "x.txt", b"x"), content_type="text/plain")
    assert list(outside.iterdir()) == []


async def test_local_a_directory_is_not_a_stored_file(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "files")
    await storage.put_file("dir/a.csv", write(tmp_path / "a.csv", b"x"), content_type="text/csv")
    with pytest.raises(FileNotFoundError):
        await storage.fetch_to("dir", tmp_path / "out")
    with pytest.raises(FileNotFoundError):
        await storage.fetch_to("dir/a.csv/b", tmp_path / "out")


async def test_local_a_failed_copy_leaves_the_old_file(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "files")
    await storage.put_file("a.csv", write(tmp_path / "a.csv", b"old"), content_type="text/csv")
    with pytest.raises(FileNotFoundError):
        await storage.put_file("a.csv", tmp_path / "no-such-source.csv", content_type="text/csv")
    assert await read_stream(storage, "a.csv") == b"old"
    assert sorted(p.name for p in (tmp_path / "files").iterdir()) == ["a.csv"]


async def test_memory_keeps_the_content_type(tmp_path: Path) -> None:
    storage = InMemoryFileStorage()
    await storage.put_file("a.xlsx", write(tmp_path / "a.xlsx", b"PK"), content_type=XLSX)
    assert storage.objects == {"a.xlsx": b"PK"} and storage.content_types == {"a.xlsx": XLSX}


@pytest.mark.parametrize("size", [21, 9 * 1024 * 1024 + 1])  # one PutObject; a multipart upload of two parts
async def test_s3_objects_carry_the_prefix_content_type_and_sha256(s3_client: Any, tmp_path: Path, size: int) -> None:
    storage = S3FileStorage(s3_client, BUCKET, prefix="/tenant-a/")
    data = os.urandom(size)
    await storage.put_file("uploads/b.csv", write(tmp_path / "b.csv", data), content_type="text/csv")
    head = await s3_client.head_object(Bucket=BUCKET, Key="tenant-a/uploads/b.csv")
    assert head["ContentType"] == "text/csv"
    assert head["Metadata"] == {SHA256_METADATA: hashlib.sha256(data).hexdigest()}
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-2") == (size > 8 * 1024 * 1024)


async def test_s3_a_file_changed_while_uploading_is_not_kept(s3_client: Any, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    storage = S3FileStorage(s3_client, BUCKET, prefix=f"test-{uuid.uuid4().hex}")
    monkeypatch.setattr(s3_file_storage, "_size_and_sha256", lambda source: (3, hashlib.sha256(b"old").hexdigest()))
    with pytest.raises(RuntimeError, match="changed"):
        await storage.put_file("a.csv", write(tmp_path / "a.csv", b"new content"), content_type="text/csv")
    with pytest.raises(FileNotFoundError):
        await read_stream(storage, "a.csv")


async def test_s3_a_missing_bucket_is_not_file_not_found(s3_client: Any, tmp_path: Path) -> None:
    storage = S3FileStorage(s3_client, "no-such-bucket-here")
    with pytest.raises(Exception) as raised:
        await storage.fetch_to("a.csv", tmp_path / "a.csv")
    assert not isinstance(raised.value, FileNotFoundError)


def test_s3_needs_a_bucket_name() -> None:
    with pytest.raises(ValueError):
        S3FileStorage(object(), "")
