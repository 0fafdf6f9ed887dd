"""Benchmark GET /api/analytics/dashboard on a book of 1,000,000 policies (cases and payments included).

Loads the book with COPY into a scratch database (see _dashboard_book.py for its shares), serves the real app with
uvicorn (one worker), signs in as an administrator-like reader and measures the dashboard sequentially, request by
request: cold (the cache switched off, every request computes the figures) and warm (cached in Redis), printing
p50/p99 of each; then the raw SQL: each statement alone and the read model's concurrent run, straight on asyncpg.

Run from the repository root:  .venv/bin/python benchmarks/bench_dashboard.py [--policies N] [--keep-db] [--reuse-db]
Env: DATABASE_URL (server; default postgresql://postgres@127.0.0.1:5432/), BENCH_REDIS_URL (redis://127.0.0.1:6379/13),
BENCH_COLD (requests, 20), BENCH_WARM (requests, 300), DB_POOL_SIZE (10).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src"), str(HERE)]

from _dashboard_book import load_book  # noqa: E402
from _db import create_database, db_url, drop_database  # noqa: E402
from _server import UvicornServer  # noqa: E402

DB_NAME = "renewals_bench_dashboard"
EMAIL, PASSWORD = "bench.dashboard@bench.test", "bench-dashboard-Passphrase-2026"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
COLD = int(os.environ.get("BENCH_COLD", "20"))
WARM = int(os.environ.get("BENCH_WARM", "300"))
POOL_SIZE = int(os.environ.get("DB_POOL_SIZE", "10"))
CACHE_PREFIX = "bench-dashboard-cache"


class NoCache:
    """A dashboard cache that never holds anything: every request computes (the cold figures)."""

    async def get(self, key: str) -> bytes | None:
        return None

    async def put(self, key: str, value: bytes, ttl: int) -> None:
        return None

    async def try_lock(self, key: str, ttl: int) -> bool:
        return True

    async def unlock(self, key: str) -> None:
        return None


def server_app() -> Any:
    """The uvicorn factory: the real app on the bench database; BENCH_CACHE=off swaps the cache for NoCache."""
    from dependency_injector import providers

    from adapters.redis.dashboard_cache import RedisDashboardCache
    from entrypoints.container import build_container
    from entrypoints.http.app import create_app
    from entrypoints.settings import load_settings

    container = build_container(load_settings({
        "APP_ENV": "test", "LOG_LEVEL": "WARNING", "DATABASE_URL": os.environ["BENCH_DB_URL"],
        "REDIS_URL": REDIS_URL, "DB_POOL_SIZE": str(POOL_SIZE)}))
    if os.environ.get("BENCH_CACHE") == "off":
        container.analytics.dashboard_cache.override(providers.Object(NoCache()))
    else:  # the real Redis cache under the bench's own prefix: never figures a test run left in the same db
        container.analytics.dashboard_cache.override(providers.Singleton(
            RedisDashboardCache, container.outside.arq_pool, prefix=CACHE_PREFIX))
    return create_app(container)


async def create_reader(dsn: str) -> None:
    """A role reading every case and the analytics (no MFA), and a user holding it."""
    from adapters.passwords.argon2_password_hasher import Argon2PasswordHasher

    conn = await asyncpg.connect(dsn)
    try:
        role = await conn.fetchval(
            "INSERT INTO roles (name, display_name, permissions, is_system, requires_mfa) VALUES ('bench_dashboard', "
            "'Bench dashboard', '{\"analytics:read\": \"all\", \"cases:read\": \"all\"}'::jsonb, false, false) "
            "RETURNING id")
        await conn.execute("INSERT INTO users (email, password_hash, first_name, last_name, role_id, status) "
                           "VALUES ($1, $2, 'Bench', 'Dashboard', $3, 'active')",
                           EMAIL, Argon2PasswordHasher().hash(PASSWORD), role)
    finally:
        await conn.close()


def start_server(cache: str) -> UvicornServer:
    """The app over the bench database with the dashboard cache on or off, ready."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(HERE)]),
           "BENCH_DB_URL": db_url(DB_NAME), "BENCH_CACHE": cache}
    server = UvicornServer("bench_dashboard:server_app", env=env, cwd=HERE)
    server.wait_ready()
    return server


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):8.1f} ms   p99 {p99:8.1f} ms   (n={len(ordered)})"


def timed_requests(server: UvicornServer, path: str, count: int) -> list[float]:
    with httpx.Client(timeout=120) as client:
        login = client.post(server.url("/api/auth/login"), json={"email": EMAIL, "password": PASSWORD})
        login.raise_for_status()
        client.headers["Authorization"] = f"Bearer {login.json()['data']['accessToken']}"
        first = client.get(server.url(path))
        first.raise_for_status()
        samples = []
        for _ in range(count):
            started = time.perf_counter()
            response = client.get(server.url(path))
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
        summary = first.json()["data"]["summary"]
        print(f"    {path}: totalCases {summary['totalCases']:,}, renewed {summary['renewed']:,}, "
              f"renewalRate {summary['renewalRate']}, premiumCollected {summary['premiumCollected']:,}")
    return samples


async def raw_sql(today: date, runs: int = 10) -> None:
    """Each statement alone, then the read model's concurrent run, then the agents statement."""
    from adapters.asyncpg.read_pool import AsyncpgReadPool
    from adapters.sqlalchemy.listing import CompiledQuery
    from adapters.sqlalchemy.read_models.analytics_agents import agents_statement
    from adapters.sqlalchemy.read_models.analytics_common import day_bounds
    from adapters.sqlalchemy.read_models.analytics_dashboard import (
        SqlAnalyticsReadModel,
        dashboard_params,
        dashboard_statements,
    )
    from application.analytics.service import DEFAULT_DAYS_AROUND_TODAY
    from application.analytics.views import DashboardQuery
    from application.shared.visibility import EVERYTHING, Visibility

    span = date.fromordinal(today.toordinal() - DEFAULT_DAYS_AROUND_TODAY)
    end = date.fromordinal(today.toordinal() + DEFAULT_DAYS_AROUND_TODAY)
    tz = "Asia/Kolkata"
    pool = AsyncpgReadPool(db_url(DB_NAME), max_size=POOL_SIZE)
    try:
        for label, query, visibility in (
                ("all, default range", DashboardQuery(date_from=span, date_to=end), EVERYTHING),
                ("branch manager", DashboardQuery(date_from=span, date_to=end),
                 Visibility(reach="branch", user_id=1, branch_id=1)),
                ("all, a year, weekly", DashboardQuery(date_from=date.fromordinal(today.toordinal() - 365),
                                                       date_to=today, bucket="week"), EVERYTHING)):
            print(f"  {label}:")
            params = dashboard_params(query, visibility, today, tz)
            for name, stmt in dashboard_statements(query, visibility).items():
                compiled = CompiledQuery(stmt)
                samples = []
                async with pool.acquire() as conn:
                    for _ in range(runs):
                        started = time.perf_counter()
                        await compiled.fetch(conn, params)
                        samples.append((time.perf_counter() - started) * 1000)
                print(f"    {name:<22}{percentiles(samples)}")
            model, samples = SqlAnalyticsReadModel(pool, tz), []
            for _ in range(runs):
                started = time.perf_counter()
                await model.dashboard(query, visibility, today)
                samples.append((time.perf_counter() - started) * 1000)
            print(f"    {'read model (at once)':<22}{percentiles(samples)}")
        agents, samples = CompiledQuery(agents_statement("all")), []
        params = day_bounds(span, end, tz)
        async with pool.acquire() as conn:
            for _ in range(runs):
                started = time.perf_counter()
                await agents.fetch(conn, params)
                samples.append((time.perf_counter() - started) * 1000)
        print(f"  agents, default range:  {percentiles(samples)}")
    finally:
        await pool.close()


async def forget_cached_figures() -> None:
    """Drop dashboard figures an earlier run left in Redis (another book's)."""
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    try:
        async for key in redis.scan_iter(match=f"{CACHE_PREFIX}:*"):
            await redis.delete(key)
    finally:
        await redis.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--policies", type=int, default=int(os.environ.get("BENCH_POLICIES", "1000000")))
    parser.add_argument("--keep-db", action="store_true", help="leave the scratch database for another run")
    parser.add_argument("--reuse-db", action="store_true", help="use the database a --keep-db run left")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    today = date.today()
    servers: list[UvicornServer] = []
    try:
        if not args.reuse_db:
            create_database(DB_NAME)
            asyncio.run(load_book(db_url(DB_NAME), args.policies, today))
            asyncio.run(create_reader(db_url(DB_NAME)))
        asyncio.run(forget_cached_figures())
        print(f"{os.cpu_count()} CPUs; DB pool size {POOL_SIZE}; sequential requests over HTTP, signed in")
        paths = ("/api/analytics/dashboard", "/api/analytics/dashboard?branch=branch-1&bucket=week")
        cold = start_server("off")
        servers.append(cold)
        print(f"cold (cache off: every request computes), {COLD} requests per URL:")
        for path in paths:
            print(f"  {path:<58}{percentiles(timed_requests(cold, path, COLD))}")
        cold.stop()
        servers.remove(cold)
        warm = start_server("on")
        servers.append(warm)
        print(f"warm (cached in Redis for 60 s), {WARM} requests per URL:")
        for path in paths:
            print(f"  {path:<58}{percentiles(timed_requests(warm, path, WARM))}")
        print("raw SQL on asyncpg (no HTTP, no cache):")
        asyncio.run(raw_sql(today))
        return 0
    finally:
        for server in servers:
            server.stop()
        if not args.keep_db:
            drop_database(DB_NAME)
            print(f"cleaned up: database {DB_NAME} dropped")


if __name__ == "__main__":
    sys.exit(main())
