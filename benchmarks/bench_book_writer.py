"""Benchmark the set-based book writer: 100,000 generated BookRows in batches of 5,000, against a raw COPY of
the same final rows straight into customers, policies and renewal_cases.

Run from the repository root:  .venv/bin/python benchmarks/bench_book_writer.py
Env: DATABASE_URL (server to use; default postgresql://postgres@127.0.0.1:5432/), BENCH_ROWS (100000),
BENCH_BATCH (5000), BENCH_REPEAT (1: times each measurement is taken; the best is reported).

What it does, in the database `renewals_bench_writer` (dropped and created, `alembic upgrade head`):
1. generates the rows (60 % as many customers as policies, 90 % of the policies active, no two rows of one
   policy), outside any timing;
2. writer: with the tables empty, an upload is added and `SqlBookWriter.write_batch` is called batch by batch
   (one transaction each: staging COPY, upserts, cases, counts and checkpoint), timed end to end from the
   BookRow objects to the last commit;
3. writer again on the same book as a second upload (every row unchanged: nothing but reads), timed;
4. baseline: the tables emptied again, then the same final rows COPYed straight into customers, policies and
   renewal_cases (explicit ids, numbers and priorities computed in Python), one transaction of three COPYs
   per batch;
5. prints rows/s of each and writer/baseline; drops the database, also on Ctrl-C or an error.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from _db import create_database, db_url, drop_database

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src")]

from adapters.asyncpg.read_pool import AsyncpgReadPool  # noqa: E402
from adapters.sqlalchemy.book_writer import SqlBookWriter  # noqa: E402
from domain.policies import rules  # noqa: E402
from domain.uploads.model import BookRow, Upload  # noqa: E402

DB_NAME = "renewals_bench_writer"
ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
BATCH = int(os.environ.get("BENCH_BATCH", "5000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "1"))
TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
PREMIUMS = {"motor": (4000, 30000), "health": (8000, 60000), "life": (15000, 120000), "term": (6000, 40000),
            "home": (3000, 20000), "travel": (800, 6000)}
FIRST = ["Asha", "Ravi", "Vikram", "Priya", "Arjun", "Meera", "Kiran", "Neha", "Rahul", "Divya", "Sanjay", "Pooja"]
LAST = ["Rao", "Das", "Menon", "Iyer", "Shah", "Patel", "Reddy", "Nair", "Singh", "Gupta", "Kumar", "Joshi"]
CITIES = ["Mumbai", "Pune", "Delhi", "Bengaluru", "Chennai", "Hyderabad", "Kolkata", "Jaipur"]











def generate(n: int, rng: random.Random) -> list[BookRow]:
    customers = max(1, n * 6 // 10)
    people: list[dict[str, Any]] = []
    for i in range(1, customers + 1):
        first, last, city = rng.choice(FIRST), rng.choice(LAST), rng.choice(CITIES)
        people.append({
            "customer_code": f"CUST-{i:07d}", "first_name": first, "last_name": last,
            "email": f"{first}.{last}.{i}@example.in".lower(),
            "phone": f"+91{rng.choice('6789')}{rng.randrange(10**8, 10**9)}",
            "date_of_birth": TODAY - timedelta(days=rng.randrange(21 * 365, 75 * 365)),
            "kyc_status": rng.choice(("verified", "verified", "pending")),
            "address": {"line1": f"{rng.randrange(1, 400)} MG Road", "city": city, "postal_code": "400001"},
            "communication_preferences": {"email": True, "sms": rng.random() < 0.9, "whatsapp": rng.random() < 0.6},
        })
    rows = []
    for i in range(1, n + 1):
        kind = rng.choice(list(PREMIUMS))
        low, high = PREMIUMS[kind]
        end = TODAY + timedelta(days=rng.randint(-20, 120))
        person = people[i - 1] if i <= customers else rng.choice(people)
        rows.append(BookRow(
            row_number=i + 1, **person, policy_number=f"POL-{end.year}-{i:07d}", policy_type=kind,
            premium_amount=Decimal(rng.randrange(low * 100, high * 100)).scaleb(-2),
            sum_assured=Decimal(rng.randrange(low * 20, high * 40)), start_date=end - timedelta(days=365),
            end_date=end, renewal_date=end, policy_status="active" if rng.random() < 0.9 else "lapsed",
            branch_id=None, agent_id=None, priority=rng.choice((None, None, None, "high")),
            notes=None if rng.random() < 0.8 else "call in the evening"))
    return rows


async def add_upload(conn: asyncpg.Connection, total: int) -> Upload:
    upload_id = await conn.fetchval(
        "INSERT INTO file_uploads (filename, original_filename, file_size, file_type, sha256, total_records, "
        "successful_records, failed_records) VALUES ('bench.csv', 'bench.csv', 1, 'csv', 'x', $1, 0, 0) RETURNING id",
        total)
    batch_id = await conn.fetchval(
        "INSERT INTO upload_batches (upload_id, file_name, total_records) VALUES ($1, 'bench.csv', $2) RETURNING id",
        upload_id, total)
    return Upload(id=upload_id, batch_id=batch_id, filename="bench.csv", original_filename="bench.csv", file_size=1,
                  file_type="csv", sha256="x", uploaded_by=None, total_records=total)


async def empty_book(conn: asyncpg.Connection) -> None:
    await conn.execute("TRUNCATE customers, policies, renewal_cases, upload_row_errors, upload_batches, "
                       "file_uploads RESTART IDENTITY CASCADE")
    for seq in ("customer_code_seq", "policy_number_seq", "renewal_case_number_seq"):
        await conn.execute(f"ALTER SEQUENCE {seq} RESTART WITH 1")
    await conn.execute("CHECKPOINT")


async def run_writer(pool: AsyncpgReadPool, rows: list[BookRow]) -> tuple[float, list[int]]:
    writer = SqlBookWriter(pool)
    async with pool.acquire() as conn:
        upload = await add_upload(conn, len(rows))
    totals = [0, 0, 0, 0, 0]
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        batch = rows[start:start + BATCH]
        written = await writer.write_batch(upload, batch, [], checkpoint=batch[-1].row_number, today=TODAY, now=NOW)
        for k, v in enumerate((written.customers_inserted, written.customers_updated, written.policies_inserted,
                               written.policies_updated, written.cases_opened)):
            totals[k] += v
    return time.perf_counter() - started, totals


def _priority(row: BookRow) -> str:
    return row.priority or str(rules.case_priority(row.premium_amount, row.renewal_date, TODAY))


async def run_copy(conn: asyncpg.Connection, rows: list[BookRow]) -> float:
    """The same final rows straight into the three tables: ids, numbers and priorities made in Python."""
    batch_id = (await add_upload(conn, len(rows))).batch_id
    started = time.perf_counter()
    customer_ids: dict[str, int] = {}
    case_seq = 0
    for start in range(0, len(rows), BATCH):
        batch = rows[start:start + BATCH]
        customers, policies, cases = [], [], []
        for row in batch:
            if row.customer_code not in customer_ids:
                customer_ids[row.customer_code] = len(customer_ids) + 1
                customers.append((customer_ids[row.customer_code], row.customer_code, row.first_name, row.last_name,
                                  row.email, row.phone, row.date_of_birth, row.kyc_status, json.dumps(row.address),
                                  json.dumps(row.communication_preferences), NOW, NOW))
            policy_id = row.row_number - 1
            policies.append((policy_id, row.policy_number, customer_ids[row.customer_code], row.policy_type,
                             row.premium_amount, row.sum_assured, row.start_date, row.end_date, row.policy_status,
                             row.renewal_date, row.agent_id, row.branch_id, NOW, NOW))
            if row.policy_status == "active":
                case_seq += 1
                cases.append((case_seq, rules.format_case_number(TODAY.year, case_seq), policy_id, row.end_date,
                              row.premium_amount, _priority(row), batch_id, row.notes, NOW, NOW))
        async with conn.transaction():
            await conn.copy_records_to_table("customers", records=customers, columns=(
                "id", "customer_code", "first_name", "last_name", "email", "phone", "date_of_birth", "kyc_status",
                "address", "communication_preferences", "created_at", "updated_at"))
            await conn.copy_records_to_table("policies", records=policies, columns=(
                "id", "policy_number", "customer_id", "policy_type", "premium_amount", "sum_assured", "start_date",
                "end_date", "status", "renewal_date", "agent_id", "branch_id", "created_at", "updated_at"))
            await conn.copy_records_to_table("renewal_cases", records=cases, columns=(
                "id", "case_number", "policy_id", "term_end_date", "renewal_amount", "priority", "batch_id", "notes",
                "created_at", "updated_at"))
    return time.perf_counter() - started


async def bench() -> None:
    rows = generate(ROWS, random.Random(7))
    pool = AsyncpgReadPool(db_url(DB_NAME), max_size=2)
    # a plain connection for the baseline: asyncpg's own jsonb codec takes the JSON text in binary COPY
    raw = await asyncpg.connect(db_url(DB_NAME))
    try:
        best_writer = best_unchanged = best_copy = float("inf")
        for _ in range(REPEAT):
            await empty_book(raw)
            seconds, totals = await run_writer(pool, rows)
            best_writer = min(best_writer, seconds)
            print(f"writer, new book:       {ROWS / seconds:9,.0f} rows/s  ({seconds:.2f} s; customers +{totals[0]} "
                  f"~{totals[1]}, policies +{totals[2]} ~{totals[3]}, cases +{totals[4]})", flush=True)
            seconds, totals = await run_writer(pool, rows)
            best_unchanged = min(best_unchanged, seconds)
            print(f"writer, unchanged book: {ROWS / seconds:9,.0f} rows/s  ({seconds:.2f} s; writes: "
                  f"{sum(totals)})", flush=True)
            await empty_book(raw)
            seconds = await run_copy(raw, rows)
            best_copy = min(best_copy, seconds)
            print(f"raw COPY baseline:      {ROWS / seconds:9,.0f} rows/s  ({seconds:.2f} s)", flush=True)
        print(f"\nbest of {REPEAT}: writer {ROWS / best_writer:,.0f} rows/s, unchanged {ROWS / best_unchanged:,.0f} "
              f"rows/s, raw COPY {ROWS / best_copy:,.0f} rows/s; writer/COPY = {best_copy / best_writer:.2f}")
    finally:
        await raw.close()
        await pool.close()


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on kill as on Ctrl-C
    try:
        create_database(DB_NAME)
        asyncio.run(bench())
        return 0
    finally:
        drop_database(DB_NAME)


if __name__ == "__main__":
    sys.exit(main())
