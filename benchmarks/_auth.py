"""Sign-in for the benchmark: a reader account in the bench database, its token, and login latency."""

from __future__ import annotations

import statistics
import time
from typing import Any

import asyncpg
import httpx

__all__ = ["BENCH_EMAIL", "BENCH_PASSWORD", "create_reader", "login_latency", "sign_in"]

BENCH_EMAIL = "bench.reader@bench.test"
BENCH_PASSWORD = "bench-reader-Passphrase-2026"


async def create_reader(dsn: str) -> str:
    """A role that may read policies (no MFA) and a user holding it, hashed as production hashes."""
    from adapters.passwords.argon2_password_hasher import Argon2PasswordHasher

    hasher = Argon2PasswordHasher()
    conn = await asyncpg.connect(dsn)
    try:
        role_id = await conn.fetchval(
            "INSERT INTO roles (name, display_name, permissions, is_system, requires_mfa) "
            "VALUES ('bench_reader', 'Bench reader', '{\"policies:read\": \"all\"}'::jsonb, false, false) "
            "RETURNING id")
        await conn.execute(
            "INSERT INTO users (email, password_hash, first_name, last_name, role_id, status) "
            "VALUES ($1, $2, 'Bench', 'Reader', $3, 'active')", BENCH_EMAIL, hasher.hash(BENCH_PASSWORD), role_id)
    finally:
        await conn.close()
    return hasher.hash("x" * 12).split("$")[3]  # the parameters, e.g. m=19456,t=2,p=1


def sign_in(base_url: str) -> str:
    response = httpx.post(f"{base_url}/api/auth/login", json={"email": BENCH_EMAIL, "password": BENCH_PASSWORD},
                          timeout=10)
    response.raise_for_status()
    token: str = response.json()["data"]["accessToken"]
    return token


def login_latency(base_url: str, count: int = 40) -> dict[str, Any]:
    """Sequential successful logins (a user signing in, not a flood): p50 and p90 in milliseconds."""
    samples: list[float] = []
    with httpx.Client(timeout=10) as client:
        for _ in range(count + 3):
            started = time.perf_counter()
            response = client.post(f"{base_url}/api/auth/login",
                                   json={"email": BENCH_EMAIL, "password": BENCH_PASSWORD})
            elapsed = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            samples.append(elapsed)
    measured = sorted(samples[3:])  # the first few warm the hasher's memory and the connection pool
    return {"count": count, "p50_ms": statistics.median(measured),
            "p90_ms": measured[int(0.9 * (len(measured) - 1))]}
