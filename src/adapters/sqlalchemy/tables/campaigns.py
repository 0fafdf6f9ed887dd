"""Tables of the campaigns context: one campaign row per channel, the recipients it targets, saved segments and
the raw tracking hits (opens, clicks) of its recipients.

- `campaigns.content` keeps `{"body": text}` (the override of the template's text); `variants` the A/B arms,
  `ab_test` its settings and decision, `excluded` reason -> count at launch, `checkpoint` the highest recipient id
  the sender has passed. The `*_count` columns are a snapshot of the recipients' figures written with every save;
  the recipients are the truth.
- `campaign_recipients`: `values` the template variables captured at launch; `lease_until` ends a worker's claim;
  (campaign_id, status, id) serves the claim's keyset scan, the partial index on lease_until the expired claims.
- `segments`: a name is unique; `filter` the JSON filter as written.
- `tracking_hits`: every open and click as received; `machine_reason` NULL for a person.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
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
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID

from adapters.sqlalchemy.metadata import created_at, metadata, updated_at

__all__ = ["campaign_recipients", "campaigns", "segments", "tracking_hits"]

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
    Column("segment_id", Integer, ForeignKey("segments.id", ondelete="SET NULL")),
    Column("subject", Text),
    Column("variants", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("ab_test", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("paused_reason", Text),
    Column("excluded", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("checkpoint", BigInteger, nullable=False, server_default=text("0")),
    Column("failed_count", Integer, nullable=False, server_default="0"),
    Column("unknown_count", Integer, nullable=False, server_default="0"),
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
    Column("address", String(320), nullable=False),  # the e-mail or E.164 number at launch
    Column("variant", String(20)),
    Column("values", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("lease_until", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("error_code", String(50)),
    Column("converted_at", DateTime(timezone=True)),
    created_at(),
    updated_at(),
    # NULLS NOT DISTINCT (PostgreSQL 15+): a customer targeted without a policy is still targeted only once.
    UniqueConstraint("campaign_id", "customer_id", "policy_id", name="uq_campaign_recipients_target",
                     postgresql_nulls_not_distinct=True),
    Index("idx_campaign_recipients_status", "campaign_id", "status"),
    Index("idx_campaign_recipients_customer", "customer_id"),
    Index("idx_campaign_recipients_provider_message", "provider_message_id",
          postgresql_where=text("provider_message_id IS NOT NULL")),
    Index("idx_campaign_recipients_claim", "campaign_id", "status", "id"),
    Index("idx_campaign_recipients_lease", "lease_until", postgresql_where=text("status = 'sending'")),
)

segments = Table(
    "segments", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("filter", JSONB, nullable=False),
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    created_at(),
    updated_at(),
)

tracking_hits = Table(
    "tracking_hits", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("recipient_id", Integer, ForeignKey("campaign_recipients.id", ondelete="CASCADE"), nullable=False),
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(10), nullable=False),  # open | click
    Column("at", DateTime(timezone=True), nullable=False),
    Column("user_agent", Text),
    Column("ip", INET),
    Column("link", Text),
    Column("machine_reason", String(30)),  # NULL: a person; privacy_proxy | scanner | bot_user_agent
    Index("idx_tracking_hits_campaign_kind", "campaign_id", "kind"),
    Index("idx_tracking_hits_recipient", "recipient_id"),
)
