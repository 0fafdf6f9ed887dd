"""Upload ingestion: the resume point, cancel flag, warnings and failure of an upload; its refused rows.

`file_uploads.processed_records` is the checkpoint (the last row number decided): the book writer moves it
in the same transaction as the batch it writes, so a worker that dies resumes after it. The primary key of
`upload_row_errors` makes a replayed batch's refused rows idempotent (ON CONFLICT DO NOTHING).
`renewal_cases.batch_id` is already indexed by `idx_renewal_cases_batch` (0001).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("file_uploads", sa.Column("processed_records", sa.Integer(), server_default=sa.text("0"),
                                            nullable=False))
    op.add_column("file_uploads", sa.Column("cancel_requested", sa.Boolean(), server_default=sa.text("false"),
                                            nullable=False))
    op.add_column("file_uploads", sa.Column("warnings", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("file_uploads", sa.Column("failure_reason", sa.Text(), nullable=True))
    op.create_table(
        "upload_row_errors",
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("cells", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(["upload_id"], ["file_uploads.id"],
                                name=op.f("fk_upload_row_errors_upload_id_file_uploads"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("upload_id", "row_number", name=op.f("pk_upload_row_errors")),
    )


def downgrade() -> None:
    op.drop_table("upload_row_errors")
    op.drop_column("file_uploads", "failure_reason")
    op.drop_column("file_uploads", "warnings")
    op.drop_column("file_uploads", "cancel_requested")
    op.drop_column("file_uploads", "processed_records")
