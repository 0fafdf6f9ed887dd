"""STORAGE_BACKEND picks the FileStorage adapter; open_resources opens the one S3 client it needs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import aioboto3  # type: ignore[import-untyped]
import pytest
from moto.server import ThreadedMotoServer

from adapters.aws.s3_file_storage import S3FileStorage
from adapters.memory.file_storage import InMemoryFileStorage
from adapters.storage.local_file_storage import LocalFileStorage
from entrypoints.container import build_container, build_memory_container
from entrypoints.resources import open_resources
from tests.conftest import settings_for_tests

REGION = "ap-south-1"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_memory_container_keeps_files_in_memory() -> None:
    container = build_memory_container(settings_for_tests(REDIS_URL="", STORAGE_BACKEND="s3"))
    storage = container.outside.file_storage()
    assert isinstance(storage, InMemoryFileStorage) and container.outside.file_storage() is storage


async def test_local_backend_keeps_files_under_local_storage_dir(tmp_path: Path) -> None:
    container = build_container(settings_for_tests(STORAGE_BACKEND="local", LOCAL_STORAGE_DIR=str(tmp_path / "files")))
    storage = container.outside.file_storage()
    assert isinstance(storage, LocalFileStorage) and container.outside.file_storage() is storage
    source = tmp_path / "book.csv"
    source.write_bytes(b"policy\n1\n")
    await storage.put_file("uploads/book.csv", source, content_type="text/csv")
    assert (tmp_path / "files" / "uploads" / "book.csv").read_bytes() == b"policy\n1\n"


async def test_s3_backend_gets_one_client_from_open_resources(moto_endpoint: str, tmp_path: Path) -> None:
    container = build_container(settings_for_tests(
        STORAGE_BACKEND="s3", AWS_REGION=REGION, AWS_ENDPOINT_URL=moto_endpoint, AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing", S3_BUCKET_NAME="renewals-wiring"))
    async with aioboto3.Session().client("s3", region_name=REGION, endpoint_url=moto_endpoint,
                                         aws_access_key_id="testing", aws_secret_access_key="testing") as admin:
        await admin.create_bucket(Bucket="renewals-wiring", CreateBucketConfiguration={"LocationConstraint": REGION})
        async with open_resources(container):
            storage = container.outside.file_storage()
            assert isinstance(storage, S3FileStorage) and container.outside.file_storage() is storage
            source = tmp_path / "book.csv"
            source.write_bytes(b"policy\n1\n")
            stored = await storage.put_file("uploads/book.csv", source, content_type="text/csv")
            assert stored.sha256 == hashlib.sha256(b"policy\n1\n").hexdigest()
            head = await admin.head_object(Bucket="renewals-wiring", Key="uploads/book.csv")
            assert head["Metadata"] == {"sha256": stored.sha256}
            assert b"".join([chunk async for chunk in storage.open_stream("uploads/book.csv")]) == b"policy\n1\n"
    await container.adapters.engine().dispose()


def test_s3_backend_without_open_resources_has_no_client() -> None:
    container = build_container(settings_for_tests(STORAGE_BACKEND="s3", AWS_REGION=REGION,
                                                   S3_BUCKET_NAME="renewals-wiring"))
    with pytest.raises(Exception, match=r"[Dd]ependency"):
        container.outside.file_storage()
