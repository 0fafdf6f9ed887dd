"""Shared fixtures: a migrated test database on the real PostgreSQL, Redis db 15, both containers."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import asyncpg
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.engine import make_engine
from adapters.sqlalchemy.metadata import metadata
from adapters.system.clock import FixedClock
from entrypoints.container import AppContainer, build_container, build_memory_container
from entrypoints.settings import Settings, load_settings

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
SERVER_URL = os.environ.get("TEST_DATABASE_SERVER", "postgresql://postgres@127.0.0.1:5432")
TEST_DB = os.environ.get("TEST_DB_NAME", "renewals_test")  # set per parallel run: each drops and recreates it
TEST_DATABASE_URL = f"{SERVER_URL}/{TEST_DB}"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


async def recreate_database(name: str) -> None:
    conn = await asyncpg.connect(f"{SERVER_URL}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    return config


def in_thread(fn: Callable[[], T]) -> T:
    """Run blocking code that calls asyncio.run (Alembic's env) outside the test event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


def migrate_fresh(name: str) -> str:
    url = f"{SERVER_URL}/{name}"
    in_thread(lambda: asyncio.run(recreate_database(name)))
    in_thread(lambda: command.upgrade(alembic_config(url), "head"))
    return url


@pytest.fixture(scope="session")
def migrated_database() -> Iterator[str]:
    yield migrate_fresh(TEST_DB)


def settings_for_tests(**overrides: str) -> Settings:
    env = {"APP_ENV": "test", "DATABASE_URL": TEST_DATABASE_URL, "REDIS_URL": TEST_REDIS_URL,
           "RENEWAL_WINDOW_DAYS": "45"}
    env.update(overrides)
    return load_settings(env)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


_TABLES = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)


async def truncate_all(engine: AsyncEngine) -> None:
    """Empty every table and restart ids and number sequences: fast isolation across connections."""
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))
        for seq in ("customer_code_seq", "policy_number_seq", "renewal_case_number_seq"):
            await conn.execute(text(f"ALTER SEQUENCE {seq} RESTART WITH 1"))


@pytest.fixture
async def sql_container(migrated_database: str, clock: FixedClock) -> AsyncIterator[AppContainer]:
    container = build_container(settings_for_tests())
    container.core.clock.override(clock)
    engine = container.adapters.engine()
    await truncate_all(engine)
    yield container
    await container.adapters.read_pool().close()
    await engine.dispose()


@pytest.fixture
def memory_container(clock: FixedClock) -> AppContainer:
    container = build_memory_container(settings_for_tests(REDIS_URL=""))
    container.core.clock.override(clock)
    return container


@pytest.fixture(params=["memory", "postgres"])
def container(request: pytest.FixtureRequest) -> AppContainer:
    """The same tests against both adapter sets; the test id names which."""
    name = "memory_container" if request.param == "memory" else "sql_container"
    found: AppContainer = request.getfixturevalue(name)
    return found


@pytest.fixture
def engine_for_tests(migrated_database: str) -> AsyncEngine:
    return make_engine(migrated_database)
