"""Benchmark the campaign engine on 100,000 recipients: launch, rendering, a limited send rate, unlimited sending.

Run from the repository root:  .venv/bin/python benchmarks/bench_campaigns.py
Env: DATABASE_URL (server to use; default postgresql://postgres@127.0.0.1:5432/), BENCH_REDIS_URL
(redis://127.0.0.1:6379/13: the shared token buckets, under a random key prefix deleted at the end),
BENCH_CAMPAIGN_ROWS (100000), BENCH_RATE (200 messages/s: the provider limit of the rate run),
BENCH_RATE_SECONDS (60: two 30-second send_batch jobs), BENCH_JOB_GAP (1.0 s between two jobs: the outbox relay
runs every second and arq polls every 0.5 s).

What it does:
1. drops and creates the database `renewals_bench_campaigns`, runs `alembic upgrade head`, seeds
   BENCH_CAMPAIGN_ROWS customers (each with an e-mail), one active policy each and one open renewal case each,
   set-based (one INSERT ... SELECT FROM generate_series per table), then VACUUM (ANALYZE);
2. creates a draft e-mail campaign for the audience "all" (HTML content with two links, so every message gets
   its click redirects and open pixel) and times `CampaignEngine.launch`: the audience selected and written as
   recipients (AudienceSource.materialise), the campaign activated, its work enqueued (one outbox job: never one
   job per recipient); goal < 10 s;
3. loads the recipients (not timed) and times rendering every one of them on this one core (the batch's
   compiled templates, the values, tracking tokens, the outbound message); goal >= 10,000 recipients/s;
4. sends with the e-mail provider limited to BENCH_RATE/s (the shared Redis token bucket, burst 1) for
   BENCH_RATE_SECONDS, calling `send_batch` as the worker's job does, with BENCH_JOB_GAP between jobs, to an
   in-process fake provider that records when each message reached it; the sustained rate is (messages - 1) /
   (last - first); goal >= 90 % of the limit;
5. in a fresh process (`bench_campaigns.py --send ID`, like a worker: its own engine, pools and imports), sends
   the rest of the campaign with no limit and reports messages/s and that process's peak RSS (VmHWM);
6. prints each figure and goal PASS or FAIL; drops the database, also on Ctrl-C or an error.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _db import create_database, db_url, drop_database

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src"), str(HERE)]

from redis.asyncio import Redis  # noqa: E402
from sqlalchemy import text  # noqa: E402

from adapters.crypto.tracking_tokens import HmacTrackingTokens  # noqa: E402
from adapters.memory.jobs import InMemoryJobQueue  # noqa: E402
from adapters.memory.sms import InMemorySmsSender  # noqa: E402
from adapters.memory.user_events import InMemoryUserEvents  # noqa: E402
from adapters.memory.whatsapp import InMemoryWhatsAppSender  # noqa: E402
from adapters.redis.token_bucket import RedisTokenBucket  # noqa: E402
from adapters.sqlalchemy.campaigns_uow import SqlAlchemyCampaignsUnitOfWork  # noqa: E402
from adapters.sqlalchemy.engine import make_engine, make_session_factory  # noqa: E402
from adapters.sqlalchemy.read_models.campaign_audience import SqlAudienceSource  # noqa: E402
from adapters.system.clock import SystemClock  # noqa: E402
from application.campaigns.composer import CampaignTemplate, TrackingLinks  # noqa: E402
from application.campaigns.config import CampaignsConfig  # noqa: E402
from application.campaigns.engine import CampaignEngine  # noqa: E402
from application.campaigns.engine_config import EngineConfig  # noqa: E402
from application.campaigns.ports import CampaignsUnitOfWork  # noqa: E402
from application.ports.email import OutboundEmail, SentEmail  # noqa: E402
from application.ports.rate_limits import RateLimit  # noqa: E402
from application.shared.events import EventRouter  # noqa: E402
from application.shared.pagination import PageRequest  # noqa: E402
from domain.campaigns.model import Campaign  # noqa: E402

DB_NAME = "renewals_bench_campaigns"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
ROWS = int(os.environ.get("BENCH_CAMPAIGN_ROWS", "100000"))
RATE = float(os.environ.get("BENCH_RATE", "200"))
RATE_SECONDS = float(os.environ.get("BENCH_RATE_SECONDS", "60"))
JOB_GAP = float(os.environ.get("BENCH_JOB_GAP", "1.0"))
GOAL_LAUNCH_S, GOAL_RENDER, GOAL_RATE_SHARE = 10.0, 10_000, 0.90
CONTENT = ('<html><body><p>Dear {name},</p><p>your {policy_type} policy {policy_number} is due for renewal on '
           '{renewal_date}: {renewal_amount} INR.</p><p><a href="https://pay.example.in/renew?p={policy_number}">'
           'Renew now</a> or <a href="https://www.example.in/branches">find your branch</a>.</p></body></html>')
SUBJECT = "{first_name}, renew policy {policy_number}"
SEED_SQL = (
    "INSERT INTO customers (customer_code, first_name, last_name, email, phone) "
    "SELECT 'CB' || lpad(n::text, 7, '0'), (ARRAY['Asha','Ravi','Meera','Arjun','Priya'])[1 + n % 5], "
    "(ARRAY['Rao','Iyer','Patel','Nair','Das'])[1 + n / 5 % 5], 'customer' || n || '@example.in', "
    "'+9198' || lpad(n::text, 8, '0') FROM generate_series(1, :rows) AS n",
    "INSERT INTO policies (policy_number, customer_id, policy_type, premium_amount, start_date, end_date, "
    "renewal_date, status) SELECT 'PB' || lpad(c.id::text, 8, '0'), c.id, "
    "(ARRAY['motor','health','life','home'])[1 + c.id % 4], 5000 + c.id % 90000, DATE '2026-01-01', "
    "DATE '2026-12-31', DATE '2026-12-31', 'active' FROM customers c",
    "INSERT INTO renewal_cases (case_number, policy_id, term_end_date, renewal_amount) "
    "SELECT 'RB' || lpad(p.id::text, 8, '0'), p.id, p.end_date, p.premium_amount FROM policies p",
)


class FakeProvider:
    """The e-mail provider: accepts everything at once and records when each message reached it."""

    def __init__(self) -> None:
        self.at: list[float] = []

    async def send(self, email: OutboundEmail) -> SentEmail:
        self.at.append(time.monotonic())
        return SentEmail(provider_message_id=f"bench-{len(self.at)}")


class NoTemplates:
    async def get(self, template_id: int) -> CampaignTemplate | None:
        return None


class NoLookup:
    async def find(self, channel: str, reference: str) -> str | None:
        raise NotImplementedError


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Bench:
    """An engine over the benchmark database, the shared Redis buckets and the fake provider."""

    def __init__(self, limit: RateLimit, prefix: str) -> None:
        self.db = make_engine(db_url(DB_NAME))
        factory = make_session_factory(self.db)
        clock, router = SystemClock(), EventRouter()
        self.redis = Redis.from_url(REDIS_URL)
        self.provider = FakeProvider()
        self.uow: Callable[[], CampaignsUnitOfWork] = lambda: SqlAlchemyCampaignsUnitOfWork(factory, router, clock)
        tracking = TrackingLinks(tokens=HmacTrackingTokens(b"bench-tracking-secret-0123456789"),
                                 urls=CampaignsConfig())
        self.engine = CampaignEngine(
            uow=self.uow, clock=clock, audience=SqlAudienceSource(factory, clock), jobs=InMemoryJobQueue(),
            sms=InMemorySmsSender(), email=self.provider, whatsapp=InMemoryWhatsAppSender(),
            limiter=RedisTokenBucket(self.redis, key_prefix=prefix), events=InMemoryUserEvents(),
            lookup=NoLookup(), config=EngineConfig(email_limit=limit), provider_names={"email": "bench"},
            templates=NoTemplates(), tracking=tracking)

    async def close(self) -> None:
        await self.redis.aclose()
        await self.db.dispose()

    async def send_for(self, campaign_id: int, seconds: float) -> str:
        """Run send_batch jobs back to back (JOB_GAP apart) for about `seconds`; the last outcome."""
        deadline = time.monotonic() + seconds
        outcome = "sent"
        while outcome == "sent" and time.monotonic() < deadline:
            outcome = (await self.engine.send_batch(campaign_id)).outcome
            if outcome == "sent" and JOB_GAP and time.monotonic() < deadline:
                await asyncio.sleep(JOB_GAP)
        return outcome


async def seed() -> None:
    db = make_engine(db_url(DB_NAME))
    async with db.begin() as conn:
        for statement in SEED_SQL:
            await conn.execute(text(statement), {"rows": ROWS})
    async with db.connect() as conn:
        await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text("VACUUM (ANALYZE)"))
    await db.dispose()


async def launch_and_render(prefix: str) -> dict[str, Any]:
    bench = Bench(RateLimit(rate=RATE, burst=1), prefix)
    try:
        async with bench.uow() as uow:
            campaign = await uow.campaigns.add(Campaign(id=None, name="Bench renewals (Email)", channel="email",
                                                        audience={"kind": "all"}, subject=SUBJECT, content=CONTENT))
            await uow.commit()
        campaign_id = campaign.id or 0
        started = time.perf_counter()
        await bench.engine.launch(campaign_id)
        launch_s = time.perf_counter() - started
        async with bench.db.connect() as conn:
            jobs = (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one()
            written = (await conn.execute(text("SELECT count(*) FROM campaign_recipients"))).scalar_one()
        print(f"launch: {written:,} recipients written, {jobs} job enqueued, {launch_s:.2f} s", flush=True)
        render_rate = await render_all(bench, campaign_id)
        print(f"rendering: {render_rate:,.0f} recipients/s on one core", flush=True)
        outcome = await bench.send_for(campaign_id, RATE_SECONDS)
        sent = bench.provider.at
        sustained = (len(sent) - 1) / (sent[-1] - sent[0]) if len(sent) > 1 else 0.0
        spent = sent[-1] - sent[0] if sent else 0.0
        print(f"limited to {RATE:g}/s: {len(sent):,} sent in {spent:.1f} s, sustained {sustained:.1f}/s "
              f"(last job: {outcome})", flush=True)
        return {"campaign_id": campaign_id, "launch_s": launch_s, "written": written, "jobs": jobs,
                "render_rate": render_rate, "sustained": sustained}
    finally:
        await bench.close()


async def render_all(bench: Bench, campaign_id: int) -> float:
    """Recipients rendered per second: every recipient of the campaign through the batch's compiled templates."""
    async with bench.uow() as uow:
        campaign = await uow.campaigns.get(campaign_id)
        assert campaign is not None
        recipients = []
        page = 1
        while True:
            found = await uow.recipients.list(campaign_id, (), PageRequest(page=page, limit=10_000))
            recipients.extend(found.items)
            if not found.items or page * 10_000 >= found.total:
                break
            page += 1
    compiled = await bench.engine._composer.compile(campaign)  # the batch's own step
    started = time.perf_counter()
    for recipient in recipients:
        compiled.message(recipient)
    return len(recipients) / (time.perf_counter() - started)


async def send_rest(campaign_id: int, prefix: str) -> dict[str, float]:
    """The --send process: the rest of the campaign with no limit, like one worker process."""
    bench = Bench(RateLimit(rate=0), prefix)
    try:
        started = time.perf_counter()
        outcome = "sent"
        while outcome == "sent":
            outcome = (await bench.engine.send_batch(campaign_id)).outcome
        seconds = time.perf_counter() - started
        return {"sent": len(bench.provider.at), "seconds": seconds, "peak_mb": peak_rss_mb(),
                "completed": float(outcome == "completed")}
    finally:
        await bench.close()


async def delete_keys(prefix: str) -> None:
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--send":
        print(json.dumps(asyncio.run(send_rest(int(sys.argv[2]), sys.argv[3]))))
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    prefix = f"bench:campaigns:{uuid.uuid4().hex}:"
    try:
        create_database(DB_NAME)
        started = time.perf_counter()
        asyncio.run(seed())
        print(f"seeded {ROWS:,} customers, policies and open cases in {time.perf_counter() - started:.1f} s",
              flush=True)
        first = asyncio.run(launch_and_render(prefix))
        done = subprocess.run([sys.executable, __file__, "--send", str(first["campaign_id"]), prefix], cwd=ROOT,
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
        if done.returncode:
            raise RuntimeError(f"the sending process failed:\n{done.stderr[-3000:]}")
        rest = json.loads(done.stdout.strip().splitlines()[-1])
        rate_off = rest["sent"] / rest["seconds"]
        print(f"no limit, one process: {rest['sent']:,.0f} sent in {rest['seconds']:.1f} s = {rate_off:,.0f} "
              f"messages/s, peak RSS {rest['peak_mb']:.0f} MB, campaign "
              f"{'completed' if rest['completed'] else 'NOT completed'}", flush=True)
    finally:
        asyncio.run(delete_keys(prefix))
        drop_database(DB_NAME)
    goals = [
        (f"launch {first['launch_s']:.2f} s < {GOAL_LAUNCH_S:.0f} s ({first['written']:,} recipients, "
         f"{first['jobs']} job)", first["launch_s"] < GOAL_LAUNCH_S and first["jobs"] == 1),
        (f"rendering {first['render_rate']:,.0f} recipients/s >= {GOAL_RENDER:,}", first["render_rate"] >= GOAL_RENDER),
        (f"sustained {first['sustained']:.1f}/s >= {GOAL_RATE_SHARE:.0%} of the {RATE:g}/s limit",
         first["sustained"] >= GOAL_RATE_SHARE * RATE),
        (f"unlimited: every recipient sent, campaign completed ({rate_off:,.0f} msgs/s, {rest['peak_mb']:.0f} MB)",
         bool(rest["completed"])),
    ]
    print()
    for line, ok in goals:
        print(f"{verdict(ok)}  {line}")
    return 0 if all(ok for _, ok in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
