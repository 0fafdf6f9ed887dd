"""Tables of the uploads context: uploaded files and the import batches made from them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sqlalchemy.metadata import created_at, metadata, updated_at

__all__ = ["file_uploads", "upload_batches"]

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
