"""What every benchmark needs from PostgreSQL and the network: its own migrated database, and a free port."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

__all__ = ["SERVER_URL", "admin_sql", "create_database", "db_url", "drop_database", "free_port"]

ROOT = Path(__file__).resolve().parents[1]
SERVER_URL = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/"


def db_url(name: str) -> str:
    """The URL of database `name` on the benchmark's server."""
    u = urlsplit(SERVER_URL.replace("postgresql+asyncpg://", "postgresql://"))
    return urlunsplit((u.scheme, u.netloc, "/" + name, "", ""))


async def admin_sql(*statements: str) -> None:
    admin = await asyncpg.connect(SERVER_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for sql in statements:
            await admin.execute(sql)
    finally:
        await admin.close()


def create_database(name: str) -> None:
    """Drop and create `name`, then migrate it to head with Alembic."""
    asyncio.run(admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"))
    done = subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, text=True,
                          env={**os.environ, "DATABASE_URL": db_url(name)}, capture_output=True)
    if done.returncode:
        raise RuntimeError(f"alembic upgrade head failed:\n{done.stderr[-3000:]}")


def drop_database(name: str) -> None:
    asyncio.run(admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
