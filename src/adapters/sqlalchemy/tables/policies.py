"""Tables of the policies context: customers, policies, renewal cases and their number sequences."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR

from adapters.sqlalchemy.metadata import created_at, metadata, updated_at

__all__ = ["SEQUENCES", "customers", "policies", "renewal_cases"]

SEQUENCES = {
    "customer_code": Sequence("customer_code_seq", metadata=metadata),
    "policy_number": Sequence("policy_number_seq", metadata=metadata),
    "case_number": Sequence("renewal_case_number_seq", metadata=metadata),
}

CUSTOMER_SEARCH = (
    "to_tsvector('simple'::regconfig, (((((first_name)::text || ' '::text) || (last_name)::text) || ' '::text)"
    " || replace((customer_code)::text, '-'::text, ' '::text)))")

customers = Table(
    "customers", metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_code", String(50), nullable=False, unique=True),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("email", String(255)),
    Column("phone", String(20)),
    Column("date_of_birth", Date),
    Column("address", JSONB),
    Column("kyc_status", String(20), nullable=False, server_default="pending"),
    Column("kyc_documents", JSONB),
    Column("communication_preferences", JSONB),
    # codes like CUST-000010 are split on hyphens, or PostgreSQL reads "-000010" as a signed number
    Column("search_vector", TSVECTOR, Computed(CUSTOMER_SEARCH, persisted=True)),
    created_at(),
    updated_at(),
    Index("ix_customers_email", "email"),
    Index("ix_customers_phone", "phone"),
    Index("ix_customers_search_vector", "search_vector", postgresql_using="gin"),
)

policies = Table(
    "policies", metadata,
    Column("id", Integer, primary_key=True),
    Column("policy_number", String(100), nullable=False, unique=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("policy_type", String(50), nullable=False),
    Column("premium_amount", Numeric(12, 2), nullable=False),
    Column("sum_assured", Numeric(14, 2)),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("status", String(20), nullable=False, server_default="active"),
    Column("renewal_date", Date, nullable=False),
    Column("grace_period_days", Integer, nullable=False, server_default="30"),
    Column("agent_id", Integer, ForeignKey("users.id")),
    Column("branch_id", Integer, ForeignKey("branches.id")),
    Column("search_vector", TSVECTOR, Computed(
        "to_tsvector('simple'::regconfig, ((policy_number)::text || ' '::text)"
        " || replace((policy_number)::text, '-'::text, ' '::text))", persisted=True)),
    created_at(),
    updated_at(),
    Index("idx_policies_customer", "customer_id"),
    Index("idx_policies_renewal_date", "renewal_date", "id"),
    Index("idx_policies_status", "status", "renewal_date"),
    Index("idx_policies_branch", "branch_id"),
    Index("idx_policies_agent", "agent_id"),
    Index("idx_policies_type", "policy_type"),
    Index("idx_policies_search_vector", "search_vector", postgresql_using="gin"),
)

renewal_cases = Table(
    "renewal_cases", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_number", String(100), nullable=False, unique=True),
    Column("policy_id", Integer, ForeignKey("policies.id"), nullable=False),
    Column("term_end_date", Date, nullable=False),
    Column("status", String(50), nullable=False, server_default="new"),
    Column("priority", String(20), nullable=False, server_default="medium"),
    Column("assigned_to", Integer, ForeignKey("users.id")),
    Column("batch_id", Integer, ForeignKey("upload_batches.id")),
    Column("renewal_amount", Numeric(12, 2), nullable=False),
    Column("payment_status", String(20), nullable=False, server_default="pending"),
    Column("payment_method", String(50)),
    Column("payment_date", DateTime(timezone=True)),
    Column("communication_attempts", Integer, nullable=False, server_default="0"),
    Column("last_contact_date", DateTime(timezone=True)),
    Column("notes", Text),
    Column("escalated_to", Integer, ForeignKey("users.id")),
    Column("escalation_reason", Text),
    Column("escalated_at", DateTime(timezone=True)),
    # the desk's workflow (issue 7): when a person first got the case, when it was first contacted and closed,
    # and what needs a person's eye (amount mismatches, partial payments): [{"code", "message", "at", ...}]
    Column("assigned_at", DateTime(timezone=True)),
    Column("first_contact_date", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("flags", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    created_at(),
    updated_at(),
    UniqueConstraint("policy_id", "term_end_date", name="uq_renewal_cases_policy_term"),
    Index("idx_renewal_cases_status", "status", "priority"),
    Index("idx_renewal_cases_assigned", "assigned_to"),
    Index("idx_renewal_cases_batch", "batch_id"),
    Index("idx_renewal_cases_escalated", "escalated_to"),
    Index("ix_renewal_cases_term_end_date", "term_end_date"),
)
