"""Tables of the uploads context: uploaded files, the import batches made from them, and their refused rows."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sqlalchemy.metadata import created_at, metadata, updated_at

__all__ = ["file_uploads", "upload_batches", "upload_row_errors"]

file_uploads = Table(
    "file_uploads", metadata,
    Column("id", Integer, primary_key=True),
    Column("filename", String(255), nullable=False),
    Column("original_filename", String(255), nullable=False),
    Column("file_size", BigInteger, nullable=False),
    Column("file_type", String(50), nullable=False),
    Column("sha256", String(64)),
    Column("description", Text),
    Column("upload_status", String(20), nullable=False, server_default="processing"),
    Column("total_records", Integer),
    Column("successful_records", Integer),
    Column("failed_records", Integer),
    Column("uploaded_by", Integer, ForeignKey("users.id")),
    Column("upload_path", String(500)),
    Column("download_url", String(500)),
    Column("processing_started_at", DateTime(timezone=True)),
    Column("processing_completed_at", DateTime(timezone=True)),
    Column("error_details", JSONB),
    # the checkpoint: the last row number decided (committed or refused), moved with each written batch
    Column("processed_records", Integer, nullable=False, server_default=text("0")),
    Column("cancel_requested", Boolean, nullable=False, server_default=text("false")),
    Column("warnings", JSONB),  # list of strings (unknown columns, ...)
    Column("failure_reason", Text),  # why the upload failed as a whole
    created_at(),
    updated_at(),
    Index("idx_file_uploads_uploaded_by", "uploaded_by", "created_at"),
    Index("idx_file_uploads_status", "upload_status"),
    Index("idx_file_uploads_sha256", "sha256"),
)

upload_batches = Table(
    "upload_batches", metadata,
    Column("id", Integer, primary_key=True),
    Column("upload_id", Integer, ForeignKey("file_uploads.id")),
    Column("file_name", String(255), nullable=False),
    Column("uploaded_by", Integer, ForeignKey("users.id")),
    Column("total_records", Integer, nullable=False),
    Column("processed_records", Integer, nullable=False, server_default="0"),
    Column("successful_records", Integer, nullable=False, server_default="0"),
    Column("failed_records", Integer, nullable=False, server_default="0"),
    Column("status", String(20), nullable=False, server_default="processing"),
    Column("file_path", String(500)),
    Column("error_log", JSONB),
    created_at(),
    updated_at(),
    Index("idx_upload_batches_upload", "upload_id"),
)

upload_row_errors = Table(
    "upload_row_errors", metadata,
    Column("upload_id", Integer, ForeignKey("file_uploads.id", ondelete="CASCADE"), nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("cells", JSONB, nullable=False),  # header as written -> value as read
    Column("reasons", JSONB, nullable=False),  # [{"column": header or "", "message": ...}]
    # one row per (upload, row): a replayed batch inserts nothing twice (ON CONFLICT DO NOTHING)
    PrimaryKeyConstraint("upload_id", "row_number"),
)
