"""Messaging: outbound messages, consent per channel and address, provider events, WhatsApp windows.

`templates` gains the India DLT template id and a unique index on (channel, lower(name), language);
`whatsapp_templates` gains Meta's template id and rejection reason (components stay in `template_data`).
`messages` keeps one row per outbound message: a provider's message id and a user's idempotency key each
identify at most one row (partial unique indexes; the key's index treats a NULL user as one user), and
(status, not_before) serves the worker's look-ups. `provider_events` is unique per (provider, event_id), so a
webhook delivered many times is stored once. Links to customers, cases, campaigns, templates and users are
set to NULL when what they point at is deleted.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 10:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _stamp(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def _set_null(column: str, table: str, source: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{table}.id"], name=op.f(f"fk_{source}_{column}_{table}"),
                                   ondelete="SET NULL")


def upgrade() -> None:
    op.add_column("templates", sa.Column("dlt_template_id", sa.String(length=64), nullable=True))
    op.create_index("uq_templates_type_name_language", "templates",
                    ["template_type", sa.literal_column("lower(name)"), "language"], unique=True)
    op.add_column("whatsapp_templates", sa.Column("provider_id", sa.String(length=64), nullable=True))
    op.add_column("whatsapp_templates", sa.Column("rejected_reason", sa.Text(), nullable=True))

    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="queued", nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("whatsapp_template", sa.String(length=512), nullable=True),
        sa.Column("whatsapp_language", sa.String(length=20), nullable=True),
        sa.Column("parameters", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"),
                  nullable=False),
        sa.Column("transactional", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=True),
        sa.Column("provider_message_id", sa.String(length=255), nullable=True),
        sa.Column("error_code", sa.String(length=50), nullable=True),
        sa.Column("error_text", sa.Text(), nullable=True),
        sa.Column("cost", sa.Numeric(precision=12, scale=5), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("encoding", sa.String(length=10), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _timestamp("not_before"),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=128), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        *(_timestamp(f"{status}_at") for status in ("queued", "sent", "undelivered", "failed", "delivered",
                                                      "read")),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.CheckConstraint("channel IN ('email', 'sms', 'whatsapp')", name=op.f("ck_messages_channel")),
        sa.CheckConstraint("status IN ('queued', 'sent', 'undelivered', 'failed', 'delivered', 'read')",
                           name=op.f("ck_messages_status")),
        _set_null("campaign_id", "campaigns", "messages"),
        _set_null("case_id", "renewal_cases", "messages"),
        _set_null("created_by", "users", "messages"),
        _set_null("customer_id", "customers", "messages"),
        _set_null("template_id", "templates", "messages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    for column in ("campaign_id", "case_id", "created_at", "customer_id", "template_id"):
        op.create_index(f"ix_messages_{column}", "messages", [column], unique=False)
    op.create_index("ix_messages_status_not_before", "messages", ["status", "not_before"], unique=False)
    op.create_index("uq_messages_created_by_idempotency_key", "messages", ["created_by", "idempotency_key"],
                    unique=True, postgresql_where=sa.text("idempotency_key IS NOT NULL"),
                    postgresql_nulls_not_distinct=True)
    op.create_index("uq_messages_provider_message_id", "messages", ["provider_message_id"], unique=True,
                    postgresql_where=sa.text("provider_message_id IS NOT NULL"))

    op.create_table(
        "customer_consents",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("opted_in", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        _stamp("updated_at"),
        _set_null("customer_id", "customers", "customer_consents"),
        sa.PrimaryKeyConstraint("channel", "address", name=op.f("pk_customer_consents")),
    )
    op.create_index("ix_customer_consents_customer_id", "customer_consents", ["customer_id"], unique=False)

    op.create_table(
        "provider_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        _timestamp("received_at", nullable=False),
        _timestamp("processed_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_events")),
        sa.UniqueConstraint("provider", "event_id", name=op.f("uq_provider_events_provider_event_id")),
    )
    op.create_table(
        "whatsapp_windows",
        sa.Column("phone", sa.String(length=20), nullable=False),
        _timestamp("last_inbound_at", nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_whatsapp_windows")),
    )


def downgrade() -> None:
    op.drop_table("whatsapp_windows")
    op.drop_table("provider_events")
    op.drop_table("customer_consents")  # its index goes with it
    op.drop_table("messages")  # and its indexes
    op.drop_column("whatsapp_templates", "rejected_reason")
    op.drop_column("whatsapp_templates", "provider_id")
    op.drop_index("uq_templates_type_name_language", table_name="templates")
    op.drop_column("templates", "dlt_template_id")
