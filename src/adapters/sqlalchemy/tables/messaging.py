"""Tables of the messaging context: templates, WhatsApp templates, outbound messages, consent, provider events.

- `templates`: a name is unique per channel (`template_type`) and language, whatever its case.
- `whatsapp_templates`: Meta's templates by (name, language); `template_data` keeps `{"components": [...]}`.
- `messages`: one row per outbound message; `queued_at` ... `undelivered_at` are the first time each status was
  reported (`Message.times`). A provider's message id and a user's idempotency key identify at most one row.
- `customer_consents`: the last decision per (channel, address).
- `provider_events`: webhook deliveries as received, once per (provider, event_id); `processed_at` marks the one
  application of its effect.
- `whatsapp_windows`: the last inbound WhatsApp message per phone (the 24-hour customer-service window).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sqlalchemy.metadata import created_at, metadata, updated_at

__all__ = ["CHANNELS", "MESSAGE_STATUSES", "STATUS_TIMES", "customer_consents", "messages", "provider_events",
           "templates", "whatsapp_templates", "whatsapp_windows"]

CHANNELS = ("email", "sms", "whatsapp")
MESSAGE_STATUSES = ("queued", "sent", "undelivered", "failed", "delivered", "read")
# Message.times key -> column
STATUS_TIMES = {status: f"{status}_at" for status in MESSAGE_STATUSES}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


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
    Column("dlt_template_id", String(64)),  # India DLT registration of an SMS template
    Column("created_by", Integer, ForeignKey("users.id")),
    created_at(),
    updated_at(),
    Index("idx_templates_type_active", "template_type", "is_active"),
)
Index("uq_templates_type_name_language", templates.c.template_type, func.lower(templates.c.name),
      templates.c.language, unique=True)

whatsapp_templates = Table(
    "whatsapp_templates", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("category", String(50), nullable=False),
    Column("language", String(10), nullable=False, server_default="en"),
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("template_data", JSONB, nullable=False),
    Column("provider_id", String(64)),  # Meta's template id
    Column("rejected_reason", Text),
    Column("created_by", Integer, ForeignKey("users.id")),
    Column("approved_at", DateTime(timezone=True)),
    created_at(),
    updated_at(),
    UniqueConstraint("name", "language", name="uq_whatsapp_templates_name_language"),
)


def _link(target: str) -> ForeignKey:
    """A reference that becomes NULL when the row it points at is deleted."""
    return ForeignKey(target, ondelete="SET NULL")


messages = Table(
    "messages", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("recipient", String(320), nullable=False),  # an e-mail address or an E.164 number
    Column("body", Text, nullable=False),
    Column("status", String(20), nullable=False, server_default="queued"),
    Column("subject", Text),
    Column("html", Text),
    Column("customer_id", Integer, _link("customers.id")),
    Column("case_id", Integer, _link("renewal_cases.id")),
    Column("campaign_id", Integer, _link("campaigns.id")),
    Column("template_id", Integer, _link("templates.id")),
    Column("whatsapp_template", String(512)),
    Column("whatsapp_language", String(20)),
    Column("parameters", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("transactional", Boolean, nullable=False, server_default=text("false")),
    # why the message exists: "reminder", "payment_link", "receipt", ... (NULL: sent by a person or a campaign)
    Column("purpose", String(30)),
    Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("provider", String(20)),
    Column("provider_message_id", String(255)),
    Column("error_code", String(50)),
    Column("error_text", Text),
    Column("cost", Numeric(12, 5)),
    Column("currency", String(3)),
    Column("encoding", String(10)),
    Column("segments", Integer),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("not_before", DateTime(timezone=True)),
    Column("idempotency_key", String(255)),
    Column("request_hash", String(128)),
    Column("created_by", Integer, _link("users.id")),
    *(Column(name, DateTime(timezone=True)) for name in STATUS_TIMES.values()),
    created_at(),
    updated_at(),
    CheckConstraint(_one_of("status", MESSAGE_STATUSES), name="status"),
    CheckConstraint(_one_of("channel", CHANNELS), name="channel"),
    Index("uq_messages_provider_message_id", "provider_message_id", unique=True,
          postgresql_where=text("provider_message_id IS NOT NULL")),
    # NULLS NOT DISTINCT (PostgreSQL 15+): a key given without a user is still used once
    Index("uq_messages_created_by_idempotency_key", "created_by", "idempotency_key", unique=True,
          postgresql_where=text("idempotency_key IS NOT NULL"), postgresql_nulls_not_distinct=True),
    Index("ix_messages_customer_id", "customer_id"),
    Index("ix_messages_case_id", "case_id"),
    Index("ix_messages_campaign_id", "campaign_id"),
    Index("ix_messages_template_id", "template_id"),
    Index("ix_messages_status_not_before", "status", "not_before"),
    Index("ix_messages_created_at", "created_at"),
)

customer_consents = Table(
    "customer_consents", metadata,
    Column("channel", String(20), nullable=False),
    Column("address", String(320), nullable=False),  # e-mail (lower case) or E.164 number
    Column("opted_in", Boolean, nullable=False),
    Column("source", String(30), nullable=False),  # stop_keyword | unsubscribe_link | bounce | complaint | ...
    Column("reason", Text),
    Column("customer_id", Integer, _link("customers.id")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("channel", "address"),
    Index("ix_customer_consents_customer_id", "customer_id"),
)

provider_events = Table(
    "provider_events", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("provider", String(20), nullable=False),  # twilio | whatsapp | ses
    Column("event_id", String(255), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("processed_at", DateTime(timezone=True)),
    UniqueConstraint("provider", "event_id"),
)

whatsapp_windows = Table(
    "whatsapp_windows", metadata,
    Column("phone", String(20), primary_key=True),
    Column("last_inbound_at", DateTime(timezone=True), nullable=False),
)
