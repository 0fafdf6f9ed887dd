"""Tables of the messaging context: message templates and WhatsApp Business templates."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sqlalchemy.metadata import created_at, metadata, updated_at

__all__ = ["templates", "whatsapp_templates"]

templates = Table(
    "templates", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("template_type", String(20), nullable=False),  # email | sms | whatsapp
    Column("category", String(50)),
    Column("language", String(10), nullable=False, server_default="en"),
    Column("subject", String(500)),  # email templates only
    Column("content", Text, nullable=False),
    Column("variables", JSONB),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("created_by", Integer, ForeignKey("users.id")),
    created_at(),
    updated_at(),
    Index("idx_templates_type_active", "template_type", "is_active"),
)

whatsapp_templates = Table(
    "whatsapp_templates", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("category", String(50), nullable=False),
    Column("language", String(10), nullable=False, server_default="en"),
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("template_data", JSONB, nullable=False),
    Column("created_by", Integer, ForeignKey("users.id")),
    Column("approved_at", DateTime(timezone=True)),
    created_at(),
    updated_at(),
    UniqueConstraint("name", "language", name="uq_whatsapp_templates_name_language"),
)
