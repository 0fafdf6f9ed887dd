"""Tables of the reminders context: the ladder of each policy type and every step sent for a policy term."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Index, Integer, String, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sqlalchemy.metadata import created_at, metadata, updated_at

__all__ = ["reminder_ladders", "reminder_sends"]

reminder_ladders = Table(
    "reminder_ladders", metadata,
    Column("policy_type", String(50), primary_key=True),  # "*" is the default ladder
    Column("steps", JSONB, nullable=False),
    Column("updated_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    created_at(),
    updated_at(),
)

# One row per (policy, term, step): the unique index is what makes the daily job idempotent and safe with two
# workers. `channels` lists each channel tried: {"channel", "messageId", "status", "reason"}.
reminder_sends = Table(
    "reminder_sends", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("case_id", Integer, ForeignKey("renewal_cases.id", ondelete="CASCADE"), nullable=False),
    Column("policy_id", Integer, nullable=False),
    Column("term_end_date", Date, nullable=False),
    Column("offset_days", Integer, nullable=False),
    Column("template", String(255), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("status", String(20), nullable=False),  # queued | sent | failed | skipped | cancelled
    Column("channels", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("reason", Text),
    created_at(),
    updated_at(),
    Index("uq_reminder_sends_term_step", "policy_id", "term_end_date", "offset_days", unique=True),
    Index("ix_reminder_sends_case_id", "case_id"),
)
