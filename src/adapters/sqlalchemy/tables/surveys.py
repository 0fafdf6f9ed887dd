"""Tables of the surveys context: surveys and the responses customers give."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.dialects.postgresql import INET, JSONB

from adapters.sqlalchemy.metadata import created_at, metadata, updated_at

__all__ = ["survey_responses", "surveys"]

surveys = Table(
    "surveys", metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(255), nullable=False),
    Column("description", Text),
    Column("created_by", Integer, ForeignKey("users.id")),
    Column("status", String(20), nullable=False, server_default="draft"),
    Column("questions", JSONB, nullable=False),
    Column("settings", JSONB),
    Column("published_at", DateTime(timezone=True)),
    Column("expires_at", DateTime(timezone=True)),
    Column("response_count", Integer, nullable=False, server_default="0"),
    created_at(),
    updated_at(),
    Index("idx_surveys_status", "status"),
)

survey_responses = Table(
    "survey_responses", metadata,
    Column("id", Integer, primary_key=True),
    Column("survey_id", Integer, ForeignKey("surveys.id")),
    Column("customer_id", Integer, ForeignKey("customers.id")),
    Column("responses", JSONB, nullable=False),
    Column("completion_time", Integer),  # seconds
    Column("ip_address", INET),
    Column("user_agent", Text),
    created_at(),
    Index("idx_survey_responses_survey", "survey_id", "created_at"),
    Index("idx_survey_responses_customer", "customer_id"),
)
