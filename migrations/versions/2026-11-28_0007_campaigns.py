"""Campaigns: saved segments, what a campaign sends and how far it got, recipients' claims, raw tracking hits.

`campaigns` gains its segment, subject, A/B variants and settings, pause reason, exclusion counts, the sender's
keyset checkpoint and failed/unknown counters. `campaign_recipients` gains the address and template values
captured at launch, the A/B variant, the claim's lease and attempts, the error code and conversion time, an index
(campaign_id, status, id) for claiming in id order and a partial index on lease_until of the rows being sent.
`segments` keeps named filters (unique name); `tracking_hits` every open and click as received, classified.
`campaign_recipients.address` is added NOT NULL through a temporary '' default (rows before it have none).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _jsonb(name: str, default: str) -> sa.Column[object]:
    return sa.Column(name, postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text(f"'{default}'::jsonb"),
                     nullable=False)


def _stamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("filter", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_segments_created_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_segments_name")),
    )

    op.add_column("campaigns", sa.Column("segment_id", sa.Integer(), nullable=True))
    op.create_foreign_key(op.f("fk_campaigns_segment_id_segments"), "campaigns", "segments", ["segment_id"], ["id"],
                          ondelete="SET NULL")
    op.add_column("campaigns", sa.Column("subject", sa.Text(), nullable=True))
    op.add_column("campaigns", _jsonb("variants", "[]"))
    op.add_column("campaigns", _jsonb("ab_test", "{}"))
    op.add_column("campaigns", sa.Column("paused_reason", sa.Text(), nullable=True))
    op.add_column("campaigns", _jsonb("excluded", "{}"))
    op.add_column("campaigns", sa.Column("checkpoint", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
    op.add_column("campaigns", sa.Column("failed_count", sa.Integer(), server_default="0", nullable=False))
    op.add_column("campaigns", sa.Column("unknown_count", sa.Integer(), server_default="0", nullable=False))

    op.add_column("campaign_recipients", sa.Column("address", sa.String(length=320), server_default="",
                                                   nullable=False))
    op.alter_column("campaign_recipients", "address", server_default=None)
    op.add_column("campaign_recipients", sa.Column("variant", sa.String(length=20), nullable=True))
    op.add_column("campaign_recipients", _jsonb("values", "{}"))
    op.add_column("campaign_recipients", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("campaign_recipients", sa.Column("attempts", sa.Integer(), server_default=sa.text("0"),
                                                   nullable=False))
    op.add_column("campaign_recipients", sa.Column("error_code", sa.String(length=50), nullable=True))
    op.add_column("campaign_recipients", sa.Column("converted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("idx_campaign_recipients_claim", "campaign_recipients", ["campaign_id", "status", "id"],
                    unique=False)
    op.create_index("idx_campaign_recipients_lease", "campaign_recipients", ["lease_until"], unique=False,
                    postgresql_where=sa.text("status = 'sending'"))

    op.create_table(
        "tracking_hits",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("ip", postgresql.INET(), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("machine_reason", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_tracking_hits_campaign_id_campaigns"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recipient_id"], ["campaign_recipients.id"],
                                name=op.f("fk_tracking_hits_recipient_id_campaign_recipients"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_hits")),
    )
    op.create_index("idx_tracking_hits_campaign_kind", "tracking_hits", ["campaign_id", "kind"], unique=False)
    op.create_index("idx_tracking_hits_recipient", "tracking_hits", ["recipient_id"], unique=False)


def downgrade() -> None:
    op.drop_table("tracking_hits")  # and its indexes
    op.drop_index("idx_campaign_recipients_lease", table_name="campaign_recipients")
    op.drop_index("idx_campaign_recipients_claim", table_name="campaign_recipients")
    for column in ("converted_at", "error_code", "attempts", "lease_until", "values", "variant", "address"):
        op.drop_column("campaign_recipients", column)
    for column in ("unknown_count", "failed_count", "checkpoint", "excluded", "paused_reason", "ab_test",
                   "variants", "subject"):
        op.drop_column("campaigns", column)
    op.drop_constraint(op.f("fk_campaigns_segment_id_segments"), "campaigns", type_="foreignkey")
    op.drop_column("campaigns", "segment_id")
    op.drop_table("segments")
