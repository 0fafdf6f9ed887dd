"""Ports of the uploads context: stored files, the upload records, and the set-based book writer."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

import msgspec

from application.ports.uow import UnitOfWork
from application.shared.pagination import Page, PageRequest
from application.shared.visibility import Visibility
from domain.uploads.model import BookRow, RowError, Upload

__all__ = [
    "BatchWritten",
    "BookWriter",
    "FileStorage",
    "ProgressPublisher",
    "ReferenceData",
    "StoredFile",
    "UploadFilters",
    "UploadLocks",
    "UploadRepository",
    "UploadsUnitOfWork",
    "WorkbookWriter",
]


class StoredFile(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    size: int
    sha256: str


class FileStorage(Protocol):
    """Kept files (originals, error reports). Keys are relative paths such as `uploads/2026/11/abc.xlsx`."""

    async def put_file(self, key: str, source: Path, *, content_type: str, sha256: str | None = None) -> StoredFile:
        """Store the file at `source` under `key` (streamed, never read whole into memory). `sha256`: the caller's
        digest of `source`, when known; an adapter that can take the file without reading it (a hard link on
        the same disk) trusts it. The caller must not change `source` afterwards (it may delete it)."""
        ...

    async def fetch_to(self, key: str, target: Path) -> None:
        """Copy the stored object to the local path `target` (streamed). FileNotFoundError when missing."""
        ...

    def open_stream(self, key: str, *, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """The stored object's bytes, chunk by chunk (for downloads). FileNotFoundError when missing."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; nothing happens when it is missing."""
        ...


class UploadFilters(msgspec.Struct, frozen=True, kw_only=True):
    status: tuple[str, ...] = ()
    uploaded_by: tuple[int, ...] = ()
    created_from: date | None = None
    created_to: date | None = None  # inclusive


class UploadRepository(Protocol):
    async def add(self, upload: Upload) -> Upload:
        """Insert file_uploads and its upload_batches row; returns the upload with both ids."""
        ...

    async def get(self, upload_id: int, visibility: Visibility) -> Upload | None:
        """The upload if the caller may see it: own = uploaded by them; branch = by someone of their branch."""
        ...

    async def get_for_update(self, upload_id: int) -> Upload | None:
        """The upload with its row locked for this unit (the worker and cancel)."""
        ...

    async def save(self, upload: Upload) -> None: ...

    async def find_by_sha256(self, sha256: str) -> Upload | None:
        """The latest upload of identical content that did not fail (for the 409 on duplicates)."""
        ...

    async def list(self, filters: UploadFilters, page: PageRequest, visibility: Visibility) -> Page[Upload]:
        """Newest first by default; sort keys createdAt, originalFilename, status."""
        ...

    async def stalled(self, updated_before: datetime) -> builtins.list[int]:
        """Ids of uploads still processing whose row was last touched before `updated_before` (no batch
        committed since: their worker died or their job was lost), oldest first."""
        ...

    async def errors(self, upload_id: int, *, after_row: int = 0, limit: int = 1000) -> builtins.list[RowError]:
        """The refused rows in row order, for the error report (paged by row number)."""
        ...


class UploadsUnitOfWork(UnitOfWork, Protocol):
    """The base unit of work (outbox, tracked events written to the audit log) with the uploads repository."""

    uploads: UploadRepository


class BatchWritten(msgspec.Struct, frozen=True, kw_only=True):
    customers_inserted: int
    customers_updated: int
    policies_inserted: int
    policies_updated: int
    cases_opened: int


class ReferenceData(msgspec.Struct, frozen=True, kw_only=True):
    """What validating a row needs from other contexts, read once per upload."""

    branch_ids: dict[str, int]  # branch code (upper case) -> id
    agent_ids: dict[str, int]  # agent email (lower case) -> user id


class BookWriter(Protocol):
    """Writes one batch of an upload in one transaction: rows, refused rows, counts and the checkpoint.

    Customers are upserted by customer_code (changed details updated), policies by policy_number (an
    existing policy updated), and an open renewal case is created for each policy's current term unless
    one exists (then it is reused and linked to the batch if it had none). The upload's counts grow by
    this batch and its checkpoint becomes `checkpoint` (the last row number decided), in the same
    transaction, only if the stored checkpoint still equals `upload.processed_records` (where this batch
    starts): otherwise nothing is written and zeros are answered. A worker that dies between batches resumes
    after the checkpoint with nothing lost or written twice, and two runs can never both count a row.
    Lookups the validator needs come from `reference_data`.
    """

    async def write_batch(self, upload: Upload, rows: Sequence[BookRow], refused: Sequence[RowError], *,
                          checkpoint: int, today: date, now: datetime) -> BatchWritten: ...

    async def reference_data(self) -> ReferenceData: ...


class ProgressPublisher(Protocol):
    async def publish(self, user_id: int, event_type: str, data: dict[str, object]) -> None:
        """Send `{"type": event_type, "data": data}` to the user's open WebSocket connections (fire and forget)."""
        ...


class WorkbookWriter(Protocol):
    """Writes the upload template and the error report (files the HTTP layer streams back)."""

    def write_template(self, target: Path, *, policy_types: Sequence[str], branch_codes: Sequence[str]) -> None: ...

    def write_template_csv(self, target: Path, *, policy_types: Sequence[str],
                           branch_codes: Sequence[str]) -> None: ...

    def write_error_report(self, target: Path, headers: Sequence[str], errors: Iterable[RowError], *,
                           fmt: str) -> int: ...


class UploadLocks(Protocol):
    """At most one ingestion per upload at a time, across workers; a dead worker's lock goes with it."""

    def hold(self, upload_id: int) -> AbstractAsyncContextManager[bool]:
        """Try to take the upload's lock for the block: True if taken, False if another run holds it."""
        ...
