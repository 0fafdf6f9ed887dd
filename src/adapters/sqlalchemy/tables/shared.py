"""Cross-cutting tables: the transactional outbox and the audit log."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, String, Table, text
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sqlalchemy.metadata import metadata

__all__ = ["audit_log", "outbox"]

outbox = Table(
    "outbox", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("job_name", String(100), nullable=False),
    Column("args", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("job_key", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("relayed_at", DateTime(timezone=True)),
    Index("ix_outbox_pending", "id", postgresql_where=text("relayed_at IS NULL")),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("actor_id", Integer, ForeignKey("users.id")),
    Column("action", String(100), nullable=False),
    Column("entity_type", String(50), nullable=False),
    Column("entity_id", Integer),
    Column("data", JSONB),
    Column("request_id", String(64)),
    Column("ip_address", String(45)),
    Column("user_agent", String(500)),
    Index("ix_audit_log_entity", "entity_type", "entity_id"),
    Index("ix_audit_log_occurred_at", "occurred_at"),
    Index("ix_audit_log_actor", "actor_id"),
    Index("ix_audit_log_action", "action"),
)
