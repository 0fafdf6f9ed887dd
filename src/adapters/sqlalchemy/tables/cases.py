"""Tables of the renewal desk's case work (policies context): the case timeline, agents' capacities, past terms."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
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
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sqlalchemy.metadata import created_at, metadata

__all__ = ["agent_capacities", "case_events", "policy_terms"]

# Everything people and the desk's own jobs did on a case: status changes, notes, assignments, escalations,
# priority changes, payment flags, renewal, lapse. Messages, reminders and payments keep their own records and
# join the timeline when it is read.
case_events = Table(
    "case_events", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("case_id", Integer, ForeignKey("renewal_cases.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("actor_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("summary", Text, nullable=False),
    Column("data", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Index("ix_case_events_case_id_at", "case_id", "at", "id"),
)

# One row per agent who takes cases: the most open cases they may hold and when round-robin last gave them one.
agent_capacities = Table(
    "agent_capacities", metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("max_open_cases", Integer),  # NULL: no limit
    Column("last_assigned_at", DateTime(timezone=True)),
)

# The terms a policy has had before its current one (renewal moves the policy to its next term in place).
policy_terms = Table(
    "policy_terms", metadata,
    Column("id", Integer, primary_key=True),
    Column("policy_id", Integer, ForeignKey("policies.id", ondelete="CASCADE"), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("renewal_date", Date, nullable=False),
    Column("premium_amount", Numeric(12, 2), nullable=False),
    Column("outcome", String(20), nullable=False),  # renewed | lapsed
    Column("case_id", Integer, ForeignKey("renewal_cases.id", ondelete="SET NULL")),
    Column("payment_id", Integer),  # the payments context's id (no foreign key across contexts)
    created_at(),
    UniqueConstraint("policy_id", "end_date", name="uq_policy_terms_policy_end"),
)
