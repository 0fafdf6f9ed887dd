"""Tables of the identity context: branches, roles, users and their recovery codes, device sessions and tokens."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sqlalchemy.metadata import created_at, metadata, updated_at

__all__ = ["branches", "refresh_tokens", "roles", "user_recovery_codes", "user_sessions", "users"]

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
    # the last TOTP time step accepted (Unix time // 30): a code is refused on second use
    Column("mfa_last_step", BigInteger),
    Column("password_changed_at", DateTime(timezone=True)),
    created_at(),
    updated_at(),
    Index("idx_users_email", "email", unique=True),
    Index("idx_users_role_status", "role_id", "status"),
    Index("idx_users_branch", "branch_id"),
    Index("ix_users_password_reset_token", "password_reset_token",
          postgresql_where=text("password_reset_token IS NOT NULL")),
)

# Single-use MFA recovery codes, stored as SHA-256 hashes; a used code is kept (with used_at) until replaced.
user_recovery_codes = Table(
    "user_recovery_codes", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    UniqueConstraint("user_id", "code_hash"),  # also serves look-ups by user_id
)

# One row per login on one device; `public_id` is the session id in access tokens and the sessions API (the
# serial `id` never leaves the database). `version` is bumped to end the session's access tokens at once.
user_sessions = Table(
    "user_sessions", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("public_id", String(32), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("user_agent", String(500)),
    Column("ip_address", String(45)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),  # absolute: refreshing never extends it
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_reason", String(50)),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Index("ix_user_sessions_user_revoked", "user_id", "revoked_at"),
)

# The refresh-token family of each session: only SHA-256 hashes are stored; a used token is kept, so that
# presenting it again is recognised as reuse, until its session is deleted.
refresh_tokens = Table(
    "refresh_tokens", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("session_id", BigInteger, ForeignKey("user_sessions.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_refresh_tokens_session", "session_id"),
)
