"""The Alembic history on the real PostgreSQL: up, down to nothing, up again, and no drift from the tables."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, MetaData, String
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import adapters.sqlalchemy.tables  # noqa: F401  (registers every table)
from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.metadata import metadata
from tests.conftest import SERVER_URL, alembic_config, recreate_database

pytestmark = pytest.mark.postgres

DB_NAME = os.environ.get("TEST_DB_NAME", "renewals_test") + "_migrations"
DB_URL = f"{SERVER_URL}/{DB_NAME}"


async def _drop_database(name: str) -> None:
    conn = await asyncpg.connect(f"{SERVER_URL}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _fetch(query: str) -> list[str]:
    conn = await asyncpg.connect(DB_URL)
    try:
        return [row[0] for row in await conn.fetch(query)]
    finally:
        await conn.close()


def _public_tables() -> list[str]:
    return asyncio.run(_fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"))


def _public_sequences() -> list[str]:
    return asyncio.run(_fetch(
        "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = 'public' ORDER BY 1"))


@pytest.fixture(scope="module")
def fresh_database() -> Iterator[str]:
    """A database of this module's own, created empty and dropped at the end."""
    asyncio.run(recreate_database(DB_NAME))
    try:
        yield DB_URL
    finally:
        asyncio.run(_drop_database(DB_NAME))


@pytest.fixture
async def engine_at_head(fresh_database: str) -> AsyncIterator[AsyncEngine]:
    # Alembic's env.py runs its own event loop, so upgrade in a worker thread, off the test's loop.
    await asyncio.to_thread(command.upgrade, alembic_config(fresh_database), "head")
    engine = make_engine(fresh_database, pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


def test_upgrade_downgrade_upgrade_round_trip(fresh_database: str) -> None:
    config = alembic_config(fresh_database)

    command.upgrade(config, "head")
    tables = _public_tables()
    assert set(metadata.tables) <= set(tables), sorted(set(metadata.tables) - set(tables))
    assert _public_sequences()

    command.downgrade(config, "base")
    assert _public_tables() == ["alembic_version"]
    assert _public_sequences() == []

    command.upgrade(config, "head")
    assert set(metadata.tables) <= set(_public_tables())


async def _diff(engine: AsyncEngine, target: MetaData) -> list[Any]:
    def compare(sync_conn: Connection) -> list[Any]:
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return list(compare_metadata(context, target))

    async with engine.connect() as conn:
        return await conn.run_sync(compare)


async def test_the_migrations_match_the_table_definitions(engine_at_head: AsyncEngine) -> None:
    diff = await _diff(engine_at_head, metadata)
    assert diff == [], "schema drift between migrations and tables:\n" + "\n".join(map(repr, diff))


async def test_the_drift_check_notices_a_column_the_migrations_lack(engine_at_head: AsyncEngine) -> None:
    altered = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(altered)
    altered.tables["customers"].append_column(Column("nickname", String(20)))

    diff = await _diff(engine_at_head, altered)
    assert diff, "adding a column to the tables was not seen as drift"
    assert "nickname" in repr(diff)
