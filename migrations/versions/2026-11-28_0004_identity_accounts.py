"""Accounts: the last accepted TOTP step, the password change time, recovery codes, audit client details.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 07:12:08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("mfa_last_step", sa.BigInteger(), nullable=True))
    op.add_column("users", sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("audit_log", sa.Column("ip_address", sa.String(length=45), nullable=True))
    op.add_column("audit_log", sa.Column("user_agent", sa.String(length=500), nullable=True))
    op.create_index("ix_audit_log_action", "audit_log", ["action"], unique=False)
    op.create_table(
        "user_recovery_codes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_recovery_codes_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_recovery_codes")),
        sa.UniqueConstraint("user_id", "code_hash", name=op.f("uq_user_recovery_codes_user_id_code_hash")),
    )
    op.create_index("ix_users_password_reset_token", "users", ["password_reset_token"], unique=False,
                    postgresql_where=sa.text("password_reset_token IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_users_password_reset_token", table_name="users")
    op.drop_table("user_recovery_codes")
    op.drop_index("ix_audit_log_action", table_name="audit_log")
    op.drop_column("audit_log", "user_agent")
    op.drop_column("audit_log", "ip_address")
    op.drop_column("users", "password_changed_at")
    op.drop_column("users", "mfa_last_step")
