"""Tables of the payments context: payments (one hosted link each), providers' webhook events, refunds."""

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
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sqlalchemy.metadata import created_at, metadata, updated_at

__all__ = ["payment_events", "payment_refunds", "payments"]

payments = Table(
    "payments", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("renewal_cases.id", ondelete="SET NULL")),
    Column("policy_id", Integer),
    Column("customer_id", Integer),
    Column("amount", Numeric(12, 2), nullable=False),  # what the link asks for
    Column("currency", String(3), nullable=False),
    Column("status", String(30), nullable=False),
    Column("provider", String(20), nullable=False),
    Column("channel", String(20)),  # how the link was sent
    Column("message_id", BigInteger),
    Column("provider_link_id", String(255)),
    Column("link_url", Text),
    Column("provider_payment_id", String(255)),
    Column("paid_amount", Numeric(12, 2)),
    Column("refunded_amount", Numeric(12, 2), nullable=False, server_default=text("0")),
    Column("method", String(50)),
    Column("paid_at", DateTime(timezone=True)),
    Column("expires_at", DateTime(timezone=True)),
    Column("flags", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("idempotency_key", String(255)),
    Column("request_hash", String(128)),
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    created_at(),
    updated_at(),
    Index("ix_payments_case_id", "case_id"),
    Index("ix_payments_status_paid_at", "status", "paid_at"),
    Index("uq_payments_provider_link", "provider", "provider_link_id", unique=True,
          postgresql_where=text("provider_link_id IS NOT NULL")),
    Index("uq_payments_provider_payment", "provider", "provider_payment_id", unique=True,
          postgresql_where=text("provider_payment_id IS NOT NULL")),
    Index("uq_payments_created_by_idempotency_key", "created_by", "idempotency_key", unique=True,
          postgresql_where=text("idempotency_key IS NOT NULL"), postgresql_nulls_not_distinct=True),
)

# Every verified webhook delivery, once per provider event id; applied by the payments.apply_event job.
payment_events = Table(
    "payment_events", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("provider", String(20), nullable=False),
    Column("event_id", String(255), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("type", String(100), nullable=False),
    Column("event", JSONB, nullable=False),  # the parsed PaymentEvent, raw payload included
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("applied_at", DateTime(timezone=True)),
    Column("outcome", Text),
    Index("uq_payment_events_provider_event", "provider", "event_id", unique=True),
)

payment_refunds = Table(
    "payment_refunds", metadata,
    Column("id", Integer, primary_key=True),
    Column("payment_id", Integer, ForeignKey("payments.id", ondelete="CASCADE"), nullable=False),
    Column("amount", Numeric(12, 2), nullable=False),
    Column("status", String(20), nullable=False),  # requested | processed | failed
    Column("provider_refund_id", String(255)),
    Column("reason", Text),
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    created_at(),
    updated_at(),
    Index("ix_payment_refunds_payment_id", "payment_id"),
)
