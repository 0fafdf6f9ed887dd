"""Tables of the campaigns context: one campaign row per channel and the recipients it targets."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from adapters.sqlalchemy.metadata import created_at, metadata, updated_at

__all__ = ["campaign_recipients", "campaigns"]

# The specification defines `campaigns` twice; docs/decisions/0003-one-campaigns-table.md reconciles them.
campaigns = Table(
    "campaigns", metadata,
    Column("id", Integer, primary_key=True),
    # Shared by the sibling per-channel rows created by one POST /api/campaigns.
    Column("group_key", UUID(as_uuid=True), nullable=False, server_default=text("gen_random_uuid()")),
    Column("name", String(255), nullable=False),
    Column("description", Text),
    Column("campaign_type", String(20), nullable=False),  # email | sms | whatsapp
    Column("status", String(20), nullable=False, server_default="draft"),
    Column("upload_id", Integer, ForeignKey("file_uploads.id")),
    Column("template_id", Integer, ForeignKey("templates.id")),
    Column("target_audience", JSONB),
    Column("content", JSONB),
    Column("budget", Numeric(12, 2)),
    Column("metrics", JSONB),
    Column("target_count", Integer),
    Column("sent_count", Integer, nullable=False, server_default="0"),
    Column("delivered_count", Integer, nullable=False, server_default="0"),
    Column("opened_count", Integer, nullable=False, server_default="0"),
    Column("clicked_count", Integer, nullable=False, server_default="0"),
    Column("replied_count", Integer, nullable=False, server_default="0"),
    Column("converted_count", Integer, nullable=False, server_default="0"),
    Column("schedule_type", String(20), nullable=False, server_default="immediate"),
    Column("scheduled_at", DateTime(timezone=True)),
    Column("started_at", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    Column("created_by", Integer, ForeignKey("users.id")),
    created_at(),
    updated_at(),
    Index("idx_campaigns_created_by", "created_by"),
    Index("idx_campaigns_status", "status", "scheduled_at"),
    Index("idx_campaigns_group_key", "group_key"),
    Index("idx_campaigns_upload", "upload_id"),
)

campaign_recipients = Table(
    "campaign_recipients", metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("policy_id", Integer, ForeignKey("policies.id")),
    Column("channel", String(20)),
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("provider_message_id", String(255)),
    Column("sent_at", DateTime(timezone=True)),
    Column("delivered_at", DateTime(timezone=True)),
    Column("opened_at", DateTime(timezone=True)),
    Column("clicked_at", DateTime(timezone=True)),
    Column("replied_at", DateTime(timezone=True)),
    Column("error_message", Text),
    Column("tracking_data", JSONB),
    created_at(),
    updated_at(),
    # NULLS NOT DISTINCT (PostgreSQL 15+): a customer targeted without a policy is still targeted only once.
    UniqueConstraint("campaign_id", "customer_id", "policy_id", name="uq_campaign_recipients_target",
                     postgresql_nulls_not_distinct=True),
    Index("idx_campaign_recipients_status", "campaign_id", "status"),
    Index("idx_campaign_recipients_customer", "customer_id"),
    Index("idx_campaign_recipients_provider_message", "provider_message_id",
          postgresql_where=text("provider_message_id IS NOT NULL")),
)
