"""What the uploads use cases answer (camelCase, as the specification's examples)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.shared.ids import UserId
from domain.uploads.model import Upload

__all__ = ["UploadAccepted", "UploadView", "duration_text", "estimate_text"]

ROWS_PER_SECOND = 10_000  # what ingestion sustains on the reference machine (make bench)


def public_upload_id(upload_id: int) -> str:
    return f"upload-{upload_id}"


def duration_text(seconds: float) -> str:
    """`2m 15s`, as the specification shows processing times."""
    whole = max(0, round(seconds))
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def estimate_text(rows: int) -> str:
    """A human range for the specification's `estimatedProcessingTime` ("less than a minute", "2-3 minutes")."""
    seconds = rows / ROWS_PER_SECOND + 2
    if seconds < 60:
        return "less than a minute"
    low = int(seconds // 60)
    return f"{low}-{low + 1} minutes"


class UploadAccepted(msgspec.Struct, kw_only=True, rename="camel"):
    upload_id: str
    filename: str
    status: str
    total_records: int
    estimated_processing_time: str
    warnings: list[str]


class UploadView(msgspec.Struct, kw_only=True, rename="camel"):
    upload_id: str
    id: str
    filename: str
    original_filename: str
    file_type: str
    file_size: int
    description: str | None
    status: str
    total_records: int
    processed_records: int
    successful_records: int
    failed_records: int
    processing_time: str | None
    download_url: str
    error_report_url: str | None
    warnings: list[str]
    error: str | None
    uploaded_by: UserId | None
    created_at: datetime | None
    processing_started_at: datetime | None
    processing_completed_at: datetime | None

    @classmethod
    def of(cls, upload: Upload, now: datetime) -> UploadView:
        assert upload.id is not None
        public = public_upload_id(upload.id)
        started, ended = upload.processing_started_at, upload.processing_completed_at
        took = ((ended or now) - started).total_seconds() if started else None
        return cls(
            upload_id=public, id=public, filename=upload.original_filename,
            original_filename=upload.original_filename, file_type=upload.file_type, file_size=upload.file_size,
            description=upload.description, status=str(upload.status), total_records=upload.total_records,
            # the rows decided; `upload.processed_records` is the checkpoint, a row number (header and blank
            # rows included), not a count
            processed_records=upload.successful_records + upload.failed_records,
            successful_records=upload.successful_records,
            failed_records=upload.failed_records, processing_time=duration_text(took) if took is not None else None,
            download_url=f"/api/upload/download/{public}",
            error_report_url=f"/api/upload/{public}/errors" if upload.failed_records else None,
            warnings=upload.warnings, error=upload.error,
            uploaded_by=UserId(upload.uploaded_by) if upload.uploaded_by else None, created_at=upload.created_at,
            processing_started_at=started, processing_completed_at=ended)
