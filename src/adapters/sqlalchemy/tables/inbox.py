"""Tables of the inbox context: connected mailboxes and the emails read from them."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from adapters.sqlalchemy.metadata import created_at, metadata, updated_at

__all__ = ["email_accounts", "emails"]

email_accounts = Table(
    "email_accounts", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("email", String(255), nullable=False, unique=True),
    Column("provider", String(50), nullable=False),
    Column("imap_server", String(255), nullable=False),
    Column("imap_port", Integer, nullable=False),
    Column("smtp_server", String(255), nullable=False),
    Column("smtp_port", Integer, nullable=False),
    Column("username", String(255), nullable=False),
    Column("password_encrypted", String(500), nullable=False),
    Column("use_ssl", Boolean, nullable=False, server_default=text("true")),
    Column("auto_sync", Boolean, nullable=False, server_default=text("true")),
    Column("sync_interval", Integer, nullable=False, server_default="5"),  # minutes
    Column("last_sync", DateTime(timezone=True)),
    Column("status", String(20), nullable=False, server_default="active"),
    created_at(),
    updated_at(),
)

emails = Table(
    "emails", metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", String(255), nullable=False, unique=True),
    Column("thread_id", String(255)),
    Column("account_id", Integer, ForeignKey("email_accounts.id")),
    Column("from_email", String(255), nullable=False),
    Column("to_email", String(255), nullable=False),
    Column("cc_emails", ARRAY(Text)),
    Column("bcc_emails", ARRAY(Text)),
    Column("subject", Text, nullable=False),
    Column("body_text", Text),
    Column("body_html", Text),
    Column("attachments", JSONB),
    Column("category", String(50)),
    Column("priority", String(20), nullable=False, server_default="medium"),
    Column("status", String(20), nullable=False, server_default="new"),
    Column("assigned_to", Integer, ForeignKey("users.id")),
    Column("sentiment_score", Numeric(3, 2)),
    Column("sentiment_label", String(20)),
    Column("ai_intent", JSONB),
    Column("read_status", Boolean, nullable=False, server_default=text("false")),
    Column("escalated_to", Integer, ForeignKey("users.id")),
    Column("escalation_reason", Text),
    Column("received_at", DateTime(timezone=True), nullable=False),
    created_at(),
    updated_at(),
    Index("idx_emails_account", "account_id"),
    Index("idx_emails_status", "status"),
    Index("idx_emails_category", "category"),
    Index("idx_emails_received_at", "received_at"),
    Index("idx_emails_thread", "thread_id"),
    Index("idx_emails_assigned", "assigned_to"),
)
