"""A 2,000-recipient SMS campaign while its worker is killed with SIGKILL five times: nothing sent twice, nothing
lost, and the campaign completes.

Real processes end to end, as tests/integration/test_upload_worker_crash.py: `python -m entrypoints.cli worker`
relays the outbox and runs `campaigns.send_batch` against a local Twilio-shaped provider
(tests/campaign_fake_provider.py) that files every message under our reference (`cr-<recipient id>`, from the
StatusCallback URL) and answers the reconciliation lookup by reference. The worker is killed at five random points
of the sending (most of them with a batch in flight: batches of 40 at 50 messages a second last 0.8 s) and started
again each time; the restarted worker's `campaigns.start_due` cron resumes the stalled campaign, reconciling the
dead worker's claims from the provider before it sends anything more.

The campaign and its recipients are written with SQL (the launch itself is the unit tests'), with one
`campaigns.send_batch` job in the outbox, as `CampaignEngine.launch` leaves it.

Needs the lead's wiring: the worker registering `campaigns.send_batch` (an outcome "retry" -> arq Retry) and the
`campaigns.start_due` cron (every 15 s, at start-up too), and the settings CAMPAIGN_BATCH_SIZE,
CAMPAIGN_LEASE_SECONDS, CAMPAIGN_STALL_SECONDS and CAMPAIGN_LOOKUP_URL (the `ReferenceLookup` of the fake module).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from arq.connections import ArqRedis

from adapters.sqlalchemy.engine import make_engine
from tests.campaign_fake_provider import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeSmsProvider
from tests.conftest import TEST_DATABASE_URL, truncate_all
from tests.worker_processes import WorkerProcess, flushed_arq_redis, start_worker, stopped_at_exit, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

RECIPIENTS = 2_000
KILLS = 5
RATE = 50  # SMS a second: about 40 s of sending
BATCH = 40
LEASE_S = 3
STALL_S = 5
WORKER_STARTS_S = 90.0  # until the first worker has sent something (imports, start-up, relay)
RESUME_S = 60.0  # until a restarted worker sends again (stall + the 15 s cron)
FINISH_S = 240.0
POLL_S = 0.02
BODY = "Dear {name}, your policy {policy_number} is due for renewal."


def worker_settings(provider: FakeSmsProvider) -> dict[str, str]:
    return {
        "SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER, "TWILIO_API_BASE_URL": provider.url,
        "PUBLIC_API_URL": "https://renewals.example.in", "SMS_RATE_PER_SECOND": str(RATE),
        "QUIET_HOURS_START": "00:00", "QUIET_HOURS_END": "23:59",
        "CAMPAIGN_BATCH_SIZE": str(BATCH), "CAMPAIGN_LEASE_SECONDS": str(LEASE_S),
        "CAMPAIGN_STALL_SECONDS": str(STALL_S), "CAMPAIGN_LOOKUP_URL": provider.lookup_url,
    }


async def seed_campaign(db: asyncpg.Connection) -> int:
    """2,000 customers and an active SMS campaign with one pending recipient each, and its first job queued."""
    await db.executemany(
        "INSERT INTO customers (customer_code, first_name, last_name, phone) VALUES ($1, $2, $3, $4)",
        [(f"CUST-{n:05d}", f"Customer{n}", "Rao", f"+9198{n:08d}") for n in range(1, RECIPIENTS + 1)])
    campaign_id = int(await db.fetchval(
        "INSERT INTO campaigns (name, campaign_type, status, content, started_at, target_count) "
        "VALUES ('Crash test (SMS)', 'sms', 'active', $1::jsonb, now(), $2) RETURNING id",
        json.dumps({"body": BODY}), RECIPIENTS))
    await db.execute(
        "INSERT INTO campaign_recipients (campaign_id, customer_id, channel, status, address, values) "
        "SELECT $1, c.id, 'sms', 'pending', c.phone, jsonb_build_object('name', c.first_name, "
        "'policy_number', 'POL-' || c.id) FROM customers c ORDER BY c.id", campaign_id)
    await db.execute("INSERT INTO outbox (job_name, args, job_key) VALUES ('campaigns.send_batch', $1::jsonb, $2)",
                     json.dumps({"campaign_id": campaign_id}), f"campaign-{campaign_id}-launch")
    return campaign_id


async def statuses(db: asyncpg.Connection, campaign_id: int) -> dict[str, int]:
    rows = await db.fetch("SELECT status, count(*) AS n FROM campaign_recipients WHERE campaign_id = $1 "
                          "GROUP BY status", campaign_id)
    return {r["status"]: r["n"] for r in rows}


@pytest.fixture
async def db(migrated_database: str) -> AsyncIterator[asyncpg.Connection]:
    engine = make_engine(migrated_database)
    await truncate_all(engine)
    conn = await asyncpg.connect(TEST_DATABASE_URL)
    yield conn
    await conn.close()
    await truncate_all(engine)
    await engine.dispose()


@pytest.fixture
async def arq_redis() -> AsyncIterator[ArqRedis]:
    async with flushed_arq_redis() as pool:
        yield pool


@pytest.fixture
def provider() -> Iterator[FakeSmsProvider]:
    fake = FakeSmsProvider().start()
    yield fake
    fake.stop()


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    with stopped_at_exit() as started:
        yield started


async def test_a_campaign_survives_five_sigkills_without_a_duplicate_or_a_loss(
        db: asyncpg.Connection, arq_redis: ArqRedis, provider: FakeSmsProvider, workers: list[WorkerProcess],
        tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED", str(time.time_ns() % 1_000_000)))
    rng = random.Random(seed)
    campaign_id = await seed_campaign(db)
    # five kill points spread over the sending (share of messages the provider has accepted), then a random pause
    # of up to 0.8 s (one batch) so the kill lands anywhere: mid-batch, mid-request, between batches
    targets = sorted(rng.uniform(0.05 + 0.16 * k, 0.15 + 0.16 * k) for k in range(KILLS))
    worker = start_worker("worker-1", tmp_path, worker_settings(provider))
    workers.append(worker)
    started = time.monotonic()
    kills: list[tuple[int, dict[str, int]]] = []
    for number, share in enumerate(targets, start=1):
        goal = int(share * RECIPIENTS)

        async def reached(goal: int = goal) -> int | None:
            accepted = len(provider.records)
            return accepted if accepted >= goal else None

        await wait_for(f"{goal} messages before kill {number}", reached,
                       within=WORKER_STARTS_S if number == 1 else RESUME_S + 30, workers=workers, poll=POLL_S)
        await asyncio.sleep(rng.uniform(0, 0.8))
        worker.kill_hard()
        assert worker.proc.returncode == -signal.SIGKILL
        at_kill = await statuses(db, campaign_id)
        kills.append((len(provider.records), at_kill))
        assert at_kill.get("pending", 0) + at_kill.get("sending", 0) > 0, "finished before it could be killed"
        worker = start_worker(f"worker-{number + 1}", tmp_path, worker_settings(provider))
        workers.append(worker)

    async def completed() -> str | None:
        status = await db.fetchval("SELECT status FROM campaigns WHERE id = $1", campaign_id)
        return str(status) if status != "active" else None

    final = await wait_for("the campaign to complete", completed, within=FINISH_S, workers=workers,
                           poll=POLL_S)
    took = time.monotonic() - started
    print(f"\nseed {seed}: killed at {[k for k, _ in kills]} accepted messages; in flight at each kill: "
          f"{[s.get('sending', 0) for _, s in kills]}; completed after {took:.0f} s; lookups {provider.lookups}")

    # the campaign completed and every recipient is decided
    assert final == "completed"
    found = await statuses(db, campaign_id)
    assert set(found) <= {"sent", "failed", "unknown"} and sum(found.values()) == RECIPIENTS, found
    # zero duplicate sends: the provider saw each reference at most once
    per_reference = provider.by_reference()
    duplicates = {ref: n for ref, n in per_reference.items() if n > 1}
    assert duplicates == {}
    # zero lost: whatever the provider accepted is recorded as sent, with the provider's id; nothing marked sent
    # that the provider never saw; the lookup answers, so nothing needed a person (unknown)
    rows = await db.fetch("SELECT id, status, provider_message_id FROM campaign_recipients WHERE campaign_id = $1",
                          campaign_id)
    sent = {f"cr-{r['id']}": r["provider_message_id"] for r in rows if r["status"] == "sent"}
    assert set(sent) == set(per_reference)
    assert all(provider.sid_of(ref) == sid for ref, sid in sent.items())
    assert found == {"sent": RECIPIENTS} and provider.refused == []
    assert sum(1 for _, at_kill in kills if at_kill.get("sending", 0)) >= 1, "no kill landed on a batch in flight"
    assert await db.fetchval("SELECT checkpoint FROM campaigns WHERE id = $1", campaign_id) > 0
