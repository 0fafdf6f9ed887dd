"""Benchmark GET /api/policies (signed in: token check and session look-up included) against a bare asyncpg +
Litestar endpoint running the same SQL without auth; then the login latency.

Run from the repository root:  .venv/bin/python benchmarks/bench_policies_list.py
Env: DATABASE_URL (server to use; default postgresql://postgres@127.0.0.1:5432/), BENCH_SECONDS (15),
BENCH_WARMUP (3), BENCH_POLICIES (100000), BENCH_CONNECTIONS (32), DB_POOL_SIZE (10),
BENCH_PYSPY=1 (record a py-spy flame graph of our server during target (a), into /tmp).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from _db import create_database, db_url, drop_database
from _server import UvicornServer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src"), str(HERE)]

from _auth import create_reader, login_latency, sign_in  # noqa: E402
from _load import measure  # noqa: E402

DB_NAME = "renewals_bench"
SECONDS = float(os.environ.get("BENCH_SECONDS", "15"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "3"))
POLICIES = int(os.environ.get("BENCH_POLICIES", "100000"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
POOL_SIZE = int(os.environ.get("DB_POOL_SIZE", "10"))
PREMIUMS = {"motor": (4000, 30000), "health": (8000, 60000), "life": (15000, 120000), "term": (6000, 40000),
            "home": (3000, 20000), "travel": (800, 6000), "personal_accident": (1000, 8000)}
STATES = {"Mumbai": "Maharashtra", "Pune": "Maharashtra", "New Delhi": "Delhi", "Bengaluru": "Karnataka",
          "Chennai": "Tamil Nadu", "Hyderabad": "Telangana", "Kolkata": "West Bengal", "Jaipur": "Rajasthan",
          "Ahmedabad": "Gujarat", "Kochi": "Kerala", "Lucknow": "Uttar Pradesh", "Bhopal": "Madhya Pradesh"}





def name_pools(rng: random.Random) -> tuple[list[str], list[str]]:
    try:
        from faker import Faker
    except ImportError:
        from entrypoints.seed import FIRST, LAST
        return FIRST, LAST
    fake = Faker("en_IN")
    fake.seed_instance(rng.randrange(2**32))
    return sorted({fake.first_name() for _ in range(2000)}), sorted({fake.last_name() for _ in range(2000)})


def customer_rows(n: int, rng: random.Random, today: date) -> list[tuple[Any, ...]]:
    firsts, lasts = name_pools(rng)
    cities = list(STATES)
    rows = []
    for i in range(1, n + 1):
        first, last = rng.choice(firsts), rng.choice(lasts)
        city = rng.choice(cities)
        address = {"line1": f"{rng.randrange(1, 400)}, {rng.choice(lasts)} Nagar", "city": city,
                   "state": STATES[city], "pincode": f"{rng.randrange(110001, 855999)}", "country": "IN"}
        prefs = {"email": True, "sms": rng.random() < 0.9, "whatsapp": rng.random() < 0.6}
        email = re.sub(r"[^a-z0-9.]", "", f"{first}.{last}.{i}".lower()) + "@example.in"
        rows.append((i, f"CUST-{i:06d}", first, last, email, f"+91{rng.choice('6789')}{rng.randrange(10**8, 10**9)}",
                     today - timedelta(days=rng.randrange(21 * 365, 75 * 365)), json.dumps(address),
                     rng.choice(("verified", "verified", "verified", "pending", "rejected")), json.dumps(prefs)))
    return rows


def policy_rows(n: int, customers: int, rng: random.Random, today: date) -> list[tuple[Any, ...]]:
    kinds = list(PREMIUMS)
    rows = []
    for i in range(1, n + 1):
        kind = rng.choice(kinds)
        low, high = PREMIUMS[kind]
        renewal = today + timedelta(days=rng.randint(-180, 180))
        start = renewal - timedelta(days=rng.choice((30, 90, 180)) if kind == "travel" else 365)
        roll = rng.random()
        status = ("cancelled" if roll < 0.03 else "pending" if roll < 0.07 else
                  ("lapsed" if roll < 0.15 else "expired" if roll < 0.20 else "active") if renewal < today
                  else "active")
        rows.append((i, f"POL-{start.year}-{i:07d}", rng.randint(1, customers), kind,
                     Decimal(rng.randrange(low * 100, high * 100)).scaleb(-2),
                     Decimal(rng.randrange(low * 20, high * 40)), start, renewal, status, renewal))
    return rows








async def load_data() -> None:
    rng, today = random.Random(20261128), date.today()
    n_customers = max(1, POLICIES // 2)
    started = time.perf_counter()
    conn = await asyncpg.connect(db_url(DB_NAME))
    try:
        await conn.copy_records_to_table("customers", records=customer_rows(n_customers, rng, today), columns=[
            "id", "customer_code", "first_name", "last_name", "email", "phone", "date_of_birth", "address",
            "kyc_status", "communication_preferences"])
        await conn.copy_records_to_table("policies", records=policy_rows(POLICIES, n_customers, rng, today), columns=[
            "id", "policy_number", "customer_id", "policy_type", "premium_amount", "sum_assured", "start_date",
            "end_date", "status", "renewal_date"])
        for table, count in (("customers", n_customers), ("policies", POLICIES)):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count})")
        await conn.execute(f"SELECT setval('customer_code_seq', {n_customers}), "
                           f"setval('policy_number_seq', {POLICIES})")
        await conn.execute("VACUUM (ANALYZE) customers")
        await conn.execute("VACUUM (ANALYZE) policies")
    finally:
        await conn.close()
    print(f"loaded {n_customers:,} customers and {POLICIES:,} policies in {time.perf_counter() - started:.1f} s")





def start_server(factory: str) -> UvicornServer:
    """One uvicorn process (one worker) serving a factory of _apps.py."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(HERE)]),
           "BENCH_DB_URL": db_url(DB_NAME), "BENCH_POOL_SIZE": str(POOL_SIZE)}
    return UvicornServer(f"_apps:{factory}", env=env, cwd=ROOT)


def check_same_answer(ours_url: str, bare_url: str, token: str) -> None:
    a = httpx.get(ours_url, timeout=10, headers={"Authorization": f"Bearer {token}"}).json()
    b = httpx.get(bare_url, timeout=10).json()
    ids_a = [p["id"] for p in a["data"]["policies"]]
    ids_b = [p["id"] for p in b["data"]["policies"]]
    same_keys = a["data"]["policies"][0].keys() == b["data"]["policies"][0].keys()
    if ids_a != ids_b or not same_keys or a["data"]["pagination"]["total"] != b["data"]["pagination"]["total"]:
        print(f"WARNING: bare endpoint answers differently\n ours: {json.dumps(a)[:400]}\n bare: {json.dumps(b)[:400]}")
    else:
        print(f"sanity: both return the same {len(ids_a)} policies, total={a['data']['pagination']['total']}")


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on kill as on Ctrl-C
    servers: list[UvicornServer] = []
    try:
        create_database(DB_NAME)
        asyncio.run(load_data())
        argon2_parameters = asyncio.run(create_reader(db_url(DB_NAME)))
        ours, bare = start_server("ours"), start_server("bare")
        servers += [ours, bare]
        ours.wait_ready("/health/live")
        bare.wait_ready("/bare/policies?limit=1")
        targets = [("(a) ours page 1", ours.url("/api/policies?limit=20")),
                   ("(b) bare page 1", bare.url("/bare/policies?limit=20")),
                   ("(c) ours page 50", ours.url("/api/policies?limit=20&page=50"))]
        token = sign_in(ours.url(""))
        check_same_answer(targets[0][1], targets[1][1], token)
        tool = "wrk" if shutil.which("wrk") else "httpx (own process)"
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        print(f"load: {tool}, {CONNECTIONS} connections, warm-up {WARMUP:g} s, measure {SECONDS:g} s per target; "
              f"DB pool size {POOL_SIZE}; {os.cpu_count()} CPUs; commit {commit.stdout.strip() or '?'}")
        results = {}
        for label, url in targets:
            spy = None
            pyspy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
            if label.startswith("(a)") and os.environ.get("BENCH_PYSPY") and pyspy:
                spy = subprocess.Popen([pyspy, "record", "-p", str(ours.proc.pid), "-d", str(int(WARMUP + SECONDS)),
                                        "-o", "/tmp/bench_ours_page1.svg", "--nonblocking"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            results[label] = measure(url, CONNECTIONS, WARMUP, SECONDS, "" if "bare" in label else token)
            if spy is not None:
                spy.wait(30)
                print("py-spy flame graph: /tmp/bench_ours_page1.svg")
        print(f"\n{'target':<18}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}   url")
        for (label, url), r in zip(targets, results.values(), strict=True):
            print(f"{label:<18}{r['rps']:>10.1f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['errors']:>8}   {url}")
            if r["errors"]:
                print(f"    non-2xx by status: {r['statuses']}; first error body: {r['sample'][:300]}")
        a, b, c = results.values()
        print(f"\nratio ours/bare throughput: {a['rps'] / b['rps']:.2f} (goal >= 0.50)")
        print(f"p99 ours: {a['p99_ms']:.0f} ms (goal < 100 ms)")
        print(f"page50/page1 throughput: {c['rps'] / a['rps']:.2f} (goal >= 0.50)")
        logins = login_latency(ours.url(""))
        print(f"login p50: {logins['p50_ms']:.1f} ms, p90: {logins['p90_ms']:.1f} ms over {logins['count']} "
              f"sequential logins (argon2id {argon2_parameters}; includes throttle checks, session, audit row)")
        return 0
    finally:
        for server in servers:
            server.stop()
        drop_database(DB_NAME)
        print(f"cleaned up: servers stopped, database {DB_NAME} dropped")


if __name__ == "__main__":
    sys.exit(main())
