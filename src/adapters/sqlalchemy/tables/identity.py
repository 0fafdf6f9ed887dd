"""Tables of the identity context: branches, roles and users."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sqlalchemy.metadata import created_at, metadata, updated_at

__all__ = ["branches", "roles", "users"]

branches = Table(
    "branches", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(20), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("region", String(100)),
    Column("state", String(100)),
    Column("city", String(100)),
    # users.branch_id -> branches and branches.manager_id -> users form a cycle: this FK is added by ALTER.
    Column("manager_id", Integer, ForeignKey("users.id", use_alter=True)),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    created_at(),
    updated_at(),
)

roles = Table(
    "roles", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("description", Text),
    Column("permissions", JSONB, nullable=False),
    Column("is_system", Boolean, nullable=False, server_default=text("false")),
    Column("requires_mfa", Boolean, nullable=False, server_default=text("false")),
    created_at(),
    updated_at(),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    # Unique through idx_users_email below: one index both enforces uniqueness and serves look-ups.
    Column("email", String(255), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("phone", String(20)),
    Column("department", String(100)),
    Column("job_title", String(100)),
    Column("role_id", Integer, ForeignKey("roles.id")),
    Column("branch_id", Integer, ForeignKey("branches.id")),
    Column("status", String(20), nullable=False, server_default="active"),
    Column("language", String(10), nullable=False, server_default="en"),
    Column("avatar_url", String(500)),
    Column("last_login", DateTime(timezone=True)),
    Column("mfa_enabled", Boolean, nullable=False, server_default=text("false")),
    Column("mfa_secret", String(255)),
    Column("password_reset_token", String(255)),
    Column("password_reset_expires", DateTime(timezone=True)),
    created_at(),
    updated_at(),
    Index("idx_users_email", "email", unique=True),
    Index("idx_users_role_status", "role_id", "status"),
    Index("idx_users_branch", "branch_id"),
)
