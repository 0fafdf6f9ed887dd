"""Tables of the notifications context: in-app notifications for users."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sqlalchemy.metadata import created_at, metadata

__all__ = ["notifications"]

notifications = Table(
    "notifications", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id")),
    Column("type", String(50), nullable=False),
    Column("title", String(255), nullable=False),
    Column("message", Text, nullable=False),
    Column("data", JSONB),
    Column("read_status", Boolean, nullable=False, server_default=text("false")),
    Column("read_at", DateTime(timezone=True)),
    Column("priority", String(20), nullable=False, server_default="medium"),
    Column("expires_at", DateTime(timezone=True)),
    created_at(),
    Index("idx_notifications_user_read", "user_id", "read_status"),
    Index("idx_notifications_created_at", "created_at"),
)
