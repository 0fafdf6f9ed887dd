"""Tables of the claims context: insurance claims raised against policies."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, Numeric, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sqlalchemy.metadata import created_at, metadata, updated_at

__all__ = ["claims"]

claims = Table(
    "claims", metadata,
    Column("id", Integer, primary_key=True),
    Column("claim_number", String(100), nullable=False, unique=True),
    Column("policy_id", Integer, ForeignKey("policies.id")),
    Column("claim_type", String(50), nullable=False),
    Column("claim_amount", Numeric(12, 2), nullable=False),
    Column("description", Text, nullable=False),
    Column("status", String(20), nullable=False, server_default="submitted"),
    Column("priority", String(20), nullable=False, server_default="medium"),
    Column("assigned_to", Integer, ForeignKey("users.id")),
    Column("documents", JSONB),
    Column("incident_date", Date, nullable=False),
    Column("reported_date", Date, nullable=False),
    Column("settlement_amount", Numeric(12, 2)),
    Column("settlement_date", Date),
    created_at(),
    updated_at(),
    Index("idx_claims_policy", "policy_id"),
    Index("idx_claims_status", "status", "priority"),
    Index("idx_claims_assigned", "assigned_to"),
)
