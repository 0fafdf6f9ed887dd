"""An uploaded policy book: its file, its state, its counts and its resume point."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from domain.shared.errors import InvalidTransition

__all__ = ["BookRow", "RowError", "Upload", "UploadStatus"]


class UploadStatus(StrEnum):
    PROCESSING = "processing"  # accepted; the worker ingests it (queued or running)
    COMPLETED = "completed"  # every row read; good rows committed, bad rows in the error report
    FAILED = "failed"  # the file could not be read to the end (corrupt, unreadable)
    CANCELLED = "cancelled"  # stopped by a user at a batch boundary; committed rows stay

    @property
    def finished(self) -> bool:
        return self is not UploadStatus.PROCESSING


@dataclass
class Upload:
    """One uploaded file (file_uploads) and its import batch (upload_batches)."""

    id: int | None
    filename: str  # the stored object's key
    original_filename: str
    file_size: int
    file_type: str  # "xlsx" or "csv"
    sha256: str
    uploaded_by: int | None
    uploader_branch_id: int | None = None  # for branch-scoped reads (not a column: joined from users)
    description: str | None = None
    status: UploadStatus = UploadStatus.PROCESSING
    total_records: int = 0  # data rows in the file (estimated at acceptance, exact when finished)
    processed_records: int = 0  # rows read and decided (committed or refused), i.e. the checkpoint
    successful_records: int = 0
    failed_records: int = 0
    batch_id: int | None = None
    cancel_requested: bool = False
    warnings: list[str] = field(default_factory=list)  # e.g. unknown columns
    error: str | None = None  # why the upload failed as a whole
    processing_started_at: datetime | None = None
    processing_completed_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def finish(self, now: datetime) -> None:
        self._require_processing("completed")
        self.status = UploadStatus.CANCELLED if self.cancel_requested else UploadStatus.COMPLETED
        self.processing_completed_at = now

    def fail(self, reason: str, now: datetime) -> None:
        self._require_processing("failed")
        self.status, self.error, self.processing_completed_at = UploadStatus.FAILED, reason, now

    def request_cancel(self) -> None:
        self._require_processing("cancelled")
        self.cancel_requested = True

    def _require_processing(self, requested: str) -> None:
        if self.status is not UploadStatus.PROCESSING:
            raise InvalidTransition("upload", str(self.status), requested)


@dataclass(frozen=True, slots=True)
class RowError:
    """A refused row: its 1-based row number in the sheet (the header is row 1), its cells, its reasons."""

    row_number: int
    cells: dict[str, Any]  # header as written in the file -> value as read
    reasons: list[tuple[str, str]]  # (header as written, or "" for the row, message)


@dataclass(frozen=True, slots=True)
class BookRow:
    """A valid row, ready to be written: one customer, one policy term and its renewal case details."""

    row_number: int
    customer_code: str
    first_name: str
    last_name: str
    email: str | None
    phone: str | None  # E.164
    date_of_birth: date | None
    kyc_status: str
    address: dict[str, Any] | None
    communication_preferences: dict[str, Any] | None
    policy_number: str
    policy_type: str
    premium_amount: Decimal
    sum_assured: Decimal | None
    start_date: date
    end_date: date
    renewal_date: date
    policy_status: str
    branch_id: int | None
    agent_id: int | None
    priority: str | None = None  # the case's priority when the file states one
    notes: str | None = None
