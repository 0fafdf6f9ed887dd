"""A worker killed with SIGKILL mid-ingest of 100,000 rows, then restarted: the book ends exactly as a clean run's.

Real processes end to end: the upload is accepted through UploadService.accept (file kept in local storage,
ingest job in the outbox); a real `python -m entrypoints.cli worker` relays the outbox and starts importing;
it is killed with SIGKILL once a few batches are committed; a second worker resumes the upload (its
`uploads.resume_stalled` cron at start-up or at :15/:45) and finishes it. While it runs, a duplicate ingest
job is queued: it must end "busy" (the advisory lock) and count nothing twice.

The expected book is computed from the generated file with the domain's own key derivation, so "equal to a
clean run" is checked row by row (policy number -> customer code, status, premium), not only by counts.
"""

from __future__ import annotations

import csv
import signal
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from arq.connections import ArqRedis
from arq.jobs import Job as ArqJob

from application.uploads.service import IncomingFile, Uploader
from domain.uploads.columns import UPLOAD_COLUMNS
from domain.uploads.keys import derive_customer_code, derive_policy_number
from entrypoints.container import AppContainer, build_container
from entrypoints.resources import open_resources
from tests.conftest import TEST_DATABASE_URL, settings_for_tests, truncate_all
from tests.identity_support import make_user
from tests.worker_processes import WorkerProcess, flushed_arq_redis, start_worker, stopped_at_exit, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROWS = 100_000
CUSTOMERS = 37_000  # customer i % CUSTOMERS: most customers hold 3 policies, spread across the whole file
LAST_ROW = ROWS + 1  # the header is row 1
BATCH_ROWS = 2_000
STALL_SECONDS = 2
POLICY_TYPES = ("motor", "health", "life", "term", "home", "travel", "personal_accident")
NOT_ACTIVE = {0: "lapsed", 1: "expired", 2: "cancelled"}  # row i % 40 -> status; the other rows are active
FIRST_NAMES = ("Asha", "Ravi", "Meera", "Arjun", "Priya", "Kiran", "Neha", "Vikram", "Sunita", "Rahul")
LAST_NAMES = ("Rao", "Sharma", "Iyer", "Patel", "Nair", "Gupta", "Reddy", "Das", "Khan", "Singh")
CITIES = (("Mumbai", "Maharashtra", "400001"), ("Bengaluru", "Karnataka", "560001"), ("Chennai", "Tamil Nadu",
          "600001"), ("Kolkata", "West Bengal", "700001"), ("Delhi", "Delhi", "110001"))
START_BASE = date(2026, 1, 1)

WORKER_STARTS_S = 90.0  # until the first worker has committed a batch (imports, start-up, relay)
RESUME_S = 120.0  # until the restarted worker has finished the upload


# --- the book ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExpectedBook:
    """What a clean import of the generated file gives."""

    customers: set[str]  # customer codes
    policies: dict[str, tuple[str, str, Decimal]]  # policy number -> (customer code, status, premium)
    statuses: list[str]  # policy status of each data row, in file order

    @property
    def active(self) -> int:
        return sum(1 for _, status, _ in self.policies.values() if status == "active")

    def committed_up_to(self, checkpoint: int) -> dict[str, int]:
        """The book after a clean import of the rows up to `checkpoint` (a sheet row number)."""
        rows = checkpoint - 1
        return {"customers": min(rows, CUSTOMERS), "policies": rows,
                "cases": sum(1 for status in self.statuses[:rows] if status == "active")}


def _customer(c: int) -> dict[str, str]:
    city, state, postal = CITIES[c % len(CITIES)]
    first, last = FIRST_NAMES[c % len(FIRST_NAMES)], LAST_NAMES[(c // 10) % len(LAST_NAMES)]
    born = date(1950, 1, 1) + timedelta(days=(c * 37) % 18_000)
    return {"first_name": first, "last_name": last, "email": f"customer{c:06d}@example.in",
            "phone": f"+91 9{c % 10}{c:08d}", "date_of_birth": born.isoformat(),
            "kyc_status": ("verified", "pending", "rejected")[c % 3], "address_line1": f"{c % 500 + 1} MG Road",
            "city": city, "state": state, "postal_code": postal,
            "communication_preferences": "email=yes; sms=yes; whatsapp=no" if c % 2 else "email=yes; sms=no"}


def write_book(path: Path) -> ExpectedBook:
    """A csv book in the template's columns (policy number and customer code blank, so both are derived)."""
    header = [column.key for column in UPLOAD_COLUMNS]
    customers: set[str] = set()
    policies: dict[str, tuple[str, str, Decimal]] = {}
    statuses: list[str] = []
    people = [_customer(c) for c in range(CUSTOMERS)]
    codes = [derive_customer_code(p["email"], None, p["first_name"], p["last_name"],
                                  date.fromisoformat(p["date_of_birth"])) for p in people]
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        for i in range(ROWS):
            c, k = i % CUSTOMERS, i // CUSTOMERS  # k-th policy of customer c: a different type each time
            person = people[c]
            policy_type = POLICY_TYPES[(c + k) % len(POLICY_TYPES)]
            start = START_BASE + timedelta(days=(i * 7) % 330)
            end = start + timedelta(days=364)
            status = NOT_ACTIVE.get(i % 40, "active")
            premium = f"{5_000 + (i * 13) % 90_000}.{i % 100:02d}"
            row = {**person, "policy_number": "", "customer_code": "", "policy_type": policy_type,
                   "premium_amount": premium, "sum_assured": str(100_000 + (i % 50) * 10_000),
                   "start_date": start.isoformat(), "end_date": end.isoformat(), "renewal_date": "",
                   "status": status, "branch_code": "", "agent_email": "", "priority": "", "notes": f"row {i}",
                   "gender": ("F", "M")[c % 2], "nominee_name": "Nominee", "nominee_relationship": "spouse",
                   "nominee_contact": "", "agent_name": "", "agent_code": "", "kyc_documents": "",
                   "renewal_amount": premium, "payment_status": "pending", "communication_attempts": "0",
                   "payment_frequency": "annual", "channel": "branch", "channel_source": "walk-in",
                   "last_contact_date": ""}
            out.writerow([row[key] for key in header])
            code = codes[c]
            customers.add(code)
            policies[derive_policy_number(code, policy_type, start)] = (code, status, Decimal(premium))
            statuses.append(status)
    assert len(policies) == ROWS, "the generator must give every row its own policy"
    return ExpectedBook(customers=customers, policies=policies, statuses=statuses)


# --- worker processes ----------------------------------------------------------------------------------

WORKER_SETTINGS = {"UPLOAD_BATCH_ROWS": str(BATCH_ROWS), "UPLOAD_STALL_SECONDS": str(STALL_SECONDS),
                   "UPLOAD_MAX_MB": "200"}


# --- probes -----------------------------------------------------------------------------------------------

# a statement of SqlBookWriter's batch transaction (checkpoint guard, batch counts, staging, upserts)
_BATCH_STATEMENTS = ("%SET processed_records = $2%", "%UPDATE upload_batches%", "%book_stage%")
_LOCK_NAMESPACE = 0x55504C  # adapters.asyncpg.upload_locks


async def batch_transactions(db: asyncpg.Connection) -> dict[int, str]:
    """The sessions inside a book writer's batch transaction now: server pid -> state and statement."""
    rows = await db.fetch(
        "SELECT pid, state, query FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL AND query LIKE ANY($1::text[])",
        list(_BATCH_STATEMENTS))
    return {r["pid"]: f"{r['state']}: {' '.join(r['query'].split())[:60]}" for r in rows}


async def lock_holders(db: asyncpg.Connection, upload_id: int) -> list[int]:
    """The server pids holding the upload's ingestion lock (a session-level advisory lock)."""
    rows = await db.fetch("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1 "
                          "AND objid = $2 AND objsubid = 2", _LOCK_NAMESPACE, upload_id)
    return [r["pid"] for r in rows]


async def book_counts(db: asyncpg.Connection) -> dict[str, int]:
    row = await db.fetchrow("SELECT (SELECT count(*) FROM customers) AS customers, "
                            "(SELECT count(*) FROM policies) AS policies, "
                            "(SELECT count(*) FROM renewal_cases) AS cases")
    return dict(row)


async def upload_row(db: asyncpg.Connection, upload_id: int) -> asyncpg.Record:
    row = await db.fetchrow("SELECT upload_status, processed_records, successful_records, failed_records, "
                            "total_records FROM file_uploads WHERE id = $1", upload_id)
    assert row is not None
    return row


# --- fixtures ---------------------------------------------------------------------------------------------

@pytest.fixture
async def crash_container(migrated_database: str, tmp_path: Path) -> AsyncIterator[AppContainer]:
    """The SQL container on local storage under tmp_path and the real clock (the workers use the real one)."""
    container = build_container(settings_for_tests(
        STORAGE_BACKEND="local", LOCAL_STORAGE_DIR=str(tmp_path / "files"), DATA_DIR=str(tmp_path / "data"),
        UPLOAD_BATCH_ROWS=str(BATCH_ROWS), UPLOAD_STALL_SECONDS=str(STALL_SECONDS), UPLOAD_MAX_MB="200"))
    engine = container.adapters.engine()
    await truncate_all(engine)
    # open_resources: the Redis pool the ingestion service's progress events need; closes the pools at exit
    async with open_resources(container):
        yield container
        await truncate_all(engine)


@pytest.fixture
async def arq_redis() -> AsyncIterator[ArqRedis]:
    async with flushed_arq_redis() as pool:
        yield pool


@pytest.fixture
async def db(migrated_database: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(TEST_DATABASE_URL)
    yield conn
    await conn.close()


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    with stopped_at_exit() as started:
        yield started


# --- the test ------------------------------------------------------------------------------------------

async def test_worker_killed_mid_ingest_resumes_to_the_clean_result(
        crash_container: AppContainer, arq_redis: ArqRedis, db: asyncpg.Connection,
        workers: list[WorkerProcess], tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    expected = write_book(book)
    uploader = await make_user(crash_container, "renewals_specialist")
    assert uploader.id is not None
    accepted = await crash_container.uploads.service().accept(
        Uploader(user_id=uploader.id, branch_id=None),
        IncomingFile(path=book, filename="book-100k.csv", size=book.stat().st_size),
        description="crash test", force=False)
    upload_id = int(await db.fetchval("SELECT id FROM file_uploads"))
    assert accepted.status == "processing"

    # 1. the first worker relays the outbox and imports; kill it once a few batches are committed
    first = start_worker("worker-1", tmp_path, WORKER_SETTINGS)
    workers.append(first)
    started = time.monotonic()

    async def mid_batch() -> tuple[int, dict[int, str], list[int]] | None:
        """Once 10 batches are committed: the moment a batch transaction is open (the hardest place to die),
        or, should that never be seen, past half the file."""
        row = await upload_row(db, upload_id)
        assert row["upload_status"] == "processing", f"finished before it could be killed: {dict(row)}"
        if row["processed_records"] < 10 * BATCH_ROWS:
            return None
        open_now = await batch_transactions(db)
        if open_now or row["processed_records"] > ROWS // 2:
            return row["processed_records"], open_now, await lock_holders(db, upload_id)
        return None

    seen, in_flight, holders = await wait_for("the first worker to commit 10 batches", mid_batch,
                                              within=WORKER_STARTS_S, workers=workers)
    first.kill_hard()
    killed_at = time.monotonic()
    assert first.proc.returncode == -signal.SIGKILL
    assert holders, "the running import holds the upload's advisory lock"

    # the server ends the dead worker's sessions: the open batch is rolled back, the lock is freed
    async def sessions_gone() -> bool | None:
        alive = await db.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])",
                                  [*in_flight.keys(), *holders])
        return True if alive == 0 else None

    await wait_for("the killed worker's sessions to end", sessions_gone, within=30, workers=workers)
    assert await lock_holders(db, upload_id) == []
    row = await upload_row(db, upload_id)
    assert row["upload_status"] == "processing"
    at_kill = row["processed_records"]
    assert seen <= at_kill < LAST_ROW
    # nothing half-written: the book holds exactly the committed batches
    assert row["successful_records"] == at_kill - 1 and row["failed_records"] == 0
    assert await book_counts(db) == expected.committed_up_to(at_kill)
    print(f"\nworker-1 killed after {killed_at - started:.1f} s at checkpoint row {at_kill} "
          f"({at_kill - 1} of {ROWS} rows committed; "
          f"{'inside a batch transaction: ' + '; '.join(in_flight.values()) if in_flight else 'between batches'})")

    # 2. a second worker resumes it: once the upload has been silent for UPLOAD_STALL_SECONDS, the restarted
    # worker's resume_stalled (run at start-up, then at :15 and :45) queues it again
    async def stalled() -> bool | None:
        return await db.fetchval("SELECT updated_at < now() - make_interval(secs => $2) FROM file_uploads "
                                 "WHERE id = $1", upload_id, float(STALL_SECONDS)) or None

    await wait_for("the upload to stall", stalled, within=30, workers=workers)
    second = start_worker("worker-2", tmp_path, WORKER_SETTINGS)
    workers.append(second)

    async def resumed() -> int | None:
        processed = (await upload_row(db, upload_id))["processed_records"]
        return processed if processed > at_kill else None

    resumed_at_row = await wait_for("the second worker to resume", resumed, within=RESUME_S, workers=workers)
    resumed_after = time.monotonic() - killed_at

    # 3. meanwhile a duplicate ingest job (the service's resume, as a stall would queue it) must end "busy"
    last_outbox = int(await db.fetchval("SELECT COALESCE(max(id), 0) FROM outbox"))
    assert await crash_container.uploads.ingestion().resume_stalled(idle_seconds=0) == 1
    duplicate = int(await db.fetchval("SELECT min(id) FROM outbox WHERE id > $1 AND job_name = 'uploads.ingest'",
                                      last_outbox))

    async def duplicate_result() -> str | None:
        info = await ArqJob(f"outbox-{duplicate}", arq_redis).result_info()
        return None if info is None else str(info.result)

    duplicate_ended = await wait_for("the duplicate ingest job to end", duplicate_result, within=RESUME_S,
                                     workers=workers)
    assert duplicate_ended == "busy", "the duplicate ran while the resumed import held the upload"

    async def completed() -> asyncpg.Record | None:
        row = await upload_row(db, upload_id)
        return row if row["upload_status"] != "processing" else None

    final = await wait_for("the upload to complete", completed, within=RESUME_S, workers=workers)
    finished_after = time.monotonic() - killed_at
    print(f"worker-2 resumed {resumed_after:.1f} s after the kill (first checkpoint after it: row {resumed_at_row}) "
          f"and finished {finished_after:.1f} s after the kill")

    # 4. the upload's counts are a clean run's
    assert dict(final) == {"upload_status": "completed", "processed_records": LAST_ROW, "successful_records": ROWS,
                           "failed_records": 0, "total_records": ROWS}
    batch = await db.fetchrow("SELECT id, processed_records, successful_records, failed_records FROM upload_batches "
                              "WHERE upload_id = $1", upload_id)
    assert (batch["processed_records"], batch["successful_records"], batch["failed_records"]) == (ROWS, ROWS, 0)
    assert await db.fetchval("SELECT count(*) FROM upload_row_errors") == 0

    # 5. the book is a clean run's: every customer and policy once, with the right values
    assert await db.fetchval("SELECT count(*) FROM customers") == len(expected.customers) == CUSTOMERS
    assert {r[0] for r in await db.fetch("SELECT customer_code FROM customers")} == expected.customers
    assert await db.fetchval("SELECT count(*) FROM policies") == ROWS
    assert await db.fetchval("SELECT count(DISTINCT policy_number) FROM policies") == ROWS
    found = {r["policy_number"]: (r["customer_code"], r["status"], r["premium_amount"]) for r in await db.fetch(
        "SELECT p.policy_number, c.customer_code, p.status, p.premium_amount "
        "FROM policies p JOIN customers c ON c.id = p.customer_id")}
    assert found == expected.policies

    # 6. one open case per active policy's term, each linked to the upload's batch, none twice
    cases = await db.fetchrow(
        "SELECT count(*) AS cases, count(DISTINCT (policy_id, term_end_date)) AS terms, "
        "count(DISTINCT case_number) AS numbers, count(*) FILTER (WHERE batch_id = $1) AS linked "
        "FROM renewal_cases", batch["id"])
    assert dict(cases) == {"cases": expected.active, "terms": expected.active, "numbers": expected.active,
                           "linked": expected.active}
    assert await db.fetchval(
        "SELECT count(*) FROM policies p WHERE p.status = 'active' AND NOT EXISTS "
        "(SELECT 1 FROM renewal_cases rc WHERE rc.policy_id = p.id AND rc.term_end_date = p.end_date)") == 0
    assert await db.fetchval("SELECT count(*) FROM renewal_cases rc JOIN policies p ON p.id = rc.policy_id "
                             "WHERE p.status <> 'active'") == 0

    # 7. every ingest job that ran answered "busy" or the final status; none failed
    results = [r for r in await arq_redis.all_job_results() if r.function == "uploads.ingest"]
    assert results and all(r.success for r in results), [(r.job_id, r.result) for r in results]
    assert {str(r.result) for r in results} <= {"busy", "completed"}
    print("ingest jobs: " + ", ".join(f"{r.job_id}={r.result}" for r in sorted(results, key=lambda r: r.enqueue_time)))

