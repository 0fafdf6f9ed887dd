"""Split customer codes on hyphens in the customers' search vector.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = ("to_tsvector('simple'::regconfig, (((((first_name)::text || ' '::text) || (last_name)::text) || ' '::text)"
       " || replace((customer_code)::text, '-'::text, ' '::text)))")
OLD = ("to_tsvector('simple'::regconfig, (((first_name)::text || ' '::text) || (last_name)::text) || ' '::text"
       " || (customer_code)::text)")


def _replace_search_vector(expression: str) -> None:
    # a generated column's expression cannot be altered in place on PostgreSQL 15: drop and add it again
    op.drop_index("ix_customers_search_vector", table_name="customers", postgresql_using="gin")
    op.drop_column("customers", "search_vector")
    op.add_column("customers", sa.Column("search_vector", postgresql.TSVECTOR(),
                                         sa.Computed(expression, persisted=True), nullable=True))
    op.create_index("ix_customers_search_vector", "customers", ["search_vector"], unique=False,
                    postgresql_using="gin")


def upgrade() -> None:
    _replace_search_vector(NEW)


def downgrade() -> None:
    _replace_search_vector(OLD)
