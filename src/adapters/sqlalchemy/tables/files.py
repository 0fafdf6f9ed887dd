"""Tables of the files context: stored files attached to any entity."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, text

from adapters.sqlalchemy.metadata import created_at, metadata

__all__ = ["files"]

files = Table(
    "files", metadata,
    Column("id", Integer, primary_key=True),
    Column("original_name", String(255), nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("file_path", String(500), nullable=False),
    Column("file_size", BigInteger, nullable=False),
    Column("mime_type", String(100), nullable=False),
    Column("sha256", String(64)),
    Column("uploaded_by", Integer, ForeignKey("users.id")),
    Column("entity_type", String(50)),
    Column("entity_id", Integer),
    Column("is_public", Boolean, nullable=False, server_default=text("false")),
    Column("virus_scan_status", String(20), nullable=False, server_default="pending"),
    created_at(),
    Index("idx_files_entity", "entity_type", "entity_id"),
    Index("idx_files_uploaded_by", "uploaded_by"),
)
