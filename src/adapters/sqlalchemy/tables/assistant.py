"""Tables of the assistant context: the AI provider settings."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, Numeric, String, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sqlalchemy.metadata import created_at, metadata, updated_at

__all__ = ["ai_settings"]

ai_settings = Table(
    "ai_settings", metadata,
    Column("id", Integer, primary_key=True),
    Column("provider", String(50), nullable=False),
    Column("api_key_encrypted", String(500), nullable=False),
    Column("model", String(100), nullable=False),
    Column("temperature", Numeric(3, 2), nullable=False, server_default="0.7"),
    Column("max_tokens", Integer, nullable=False, server_default="1000"),
    Column("response_timeout", Integer, nullable=False, server_default="30"),  # seconds
    Column("rate_limit_per_minute", Integer, nullable=False, server_default="60"),
    Column("rate_limit_per_hour", Integer, nullable=False, server_default="1000"),
    Column("features", JSONB, nullable=False),
    Column("knowledge_base", JSONB),
    Column("fallback_enabled", Boolean, nullable=False, server_default=text("true")),
    Column("fallback_message", Text),
    created_at(),
    updated_at(),
)
