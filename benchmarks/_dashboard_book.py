"""A renewal book for bench_dashboard.py, loaded with COPY: policies, their cases, payments, branches and agents.

Shares (seeded, so every run loads the same book):
- policies: renewal dates spread evenly over today -180 .. +180 days, 8 branches (5 % without), 7 policy types;
- cases: one per policy whose term ends between today -180 and +45 (the renewal window is 45 days), about 62 % of
  the policies. Due in the future: mostly open (new 40 %, contacted 20 %, in progress 20 %, payment pending 15 %),
  5 % renewed early. Due in the past: renewed 70 %, lapsed 13 %, lost 8 %, cancelled 2 %, still open 7 % (grace);
  85 % assigned to one of the branch's 25 agents, 2 % escalated, 1 % flagged; 75 % contacted (hours after
  assignment);
- payments: renewed cases have a paid link (WhatsApp 50 %, SMS 25 %, e-mail 25 %), 3 % of them partially refunded;
  payment-pending cases a sent link; 10 % of the other cases an expired or failed link; 1 % of cases partially paid.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any

import asyncpg

__all__ = ["load_book"]

TYPES = {"motor": (4000, 30000), "health": (8000, 60000), "life": (15000, 120000), "term": (6000, 40000),
         "home": (3000, 20000), "travel": (800, 6000), "personal_accident": (1000, 8000)}
BRANCHES = ("MUM01", "PUN01", "DEL01", "BLR01", "CHE01", "HYD01", "KOL01", "AMD01")
AGENTS_PER_BRANCH = 25
CHANNELS = ("whatsapp", "whatsapp", "sms", "email")
_OPEN_FUTURE = (("new", 0.40), ("contacted", 0.60), ("in_progress", 0.80), ("payment_pending", 0.95),
                ("renewed", 1.0))
_PAST = (("renewed", 0.70), ("lapsed", 0.83), ("lost", 0.91), ("cancelled", 0.93), ("in_progress", 0.96),
         ("payment_pending", 1.0))


def _pick(table: tuple[tuple[str, float], ...], roll: float) -> str:
    return next(name for name, upto in table if roll < upto)


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, dtime(), UTC) + timedelta(seconds=rng.randrange(8 * 3600, 20 * 3600))


async def _staff(conn: asyncpg.Connection) -> dict[int, list[int]]:
    """Branches and their agents (no password: they never sign in); branch id -> agent ids."""
    role = await conn.fetchval("SELECT id FROM roles WHERE name = 'agent'")
    agents: dict[int, list[int]] = {}
    for code in BRANCHES:
        branch = await conn.fetchval("INSERT INTO branches (code, name) VALUES ($1, $2) RETURNING id", code,
                                     f"Branch {code}")
        rows = [(f"agent.{code.lower()}.{n}@bench.test", "!", "Agent", f"{code}-{n}", role, branch, "active")
                for n in range(1, AGENTS_PER_BRANCH + 1)]
        await conn.copy_records_to_table("users", records=rows, columns=[
            "email", "password_hash", "first_name", "last_name", "role_id", "branch_id", "status"])
        agents[branch] = [r["id"] for r in await conn.fetch("SELECT id FROM users WHERE branch_id = $1", branch)]
    return agents


def _rows(n: int, agents: dict[int, list[int]], today: date, rng: random.Random) -> tuple[list[Any], ...]:
    customers, policies, cases, payments = [], [], [], []
    branch_ids = list(agents)
    kinds = list(TYPES)
    for i in range(1, n // 2 + 1):
        customers.append((i, f"CUST-{i:07d}", "Bench", f"Customer{i}"))
    for i in range(1, n + 1):
        kind = kinds[i % len(kinds)]
        low, high = TYPES[kind]
        offset = rng.randint(-180, 180)
        end = today + timedelta(days=offset)
        branch = rng.choice(branch_ids) if rng.random() >= 0.05 else None
        premium = Decimal(rng.randrange(low * 100, high * 100)).scaleb(-2)
        status = "active" if offset >= -30 else rng.choice(("active", "lapsed", "expired"))
        policies.append((i, f"POL-{i:07d}", rng.randint(1, n // 2), kind, premium, end - timedelta(days=365), end,
                         status, end, branch))
        if offset > 45:
            continue
        case_status = _pick(_OPEN_FUTURE if offset >= 0 else _PAST, rng.random())
        created = _at(end - timedelta(days=45), rng)
        assignee = rng.choice(agents[branch]) if branch is not None and rng.random() < 0.85 else None
        assigned_at = created + timedelta(hours=rng.uniform(0, 48)) if assignee else None
        contact = (assigned_at or created) + timedelta(hours=rng.expovariate(1 / 20)) if rng.random() < 0.75 else None
        closed = None
        if case_status in ("renewed", "lapsed", "lost", "cancelled"):
            closed = _at(min(today, end + timedelta(days=rng.randint(-20, 30))), rng)
        escalated = rng.choice(agents[branch]) if branch is not None and rng.random() < 0.02 else None
        flags = '[{"code": "amount_mismatch"}]' if rng.random() < 0.01 else "[]"
        case_id = len(cases) + 1
        cases.append((case_id, f"RC-{case_id:07d}", i, end, case_status, premium, assignee, assigned_at, contact,
                      closed, escalated, flags, created))
        channel = rng.choice(CHANNELS)
        if case_status == "renewed":
            refunded = (premium / 10).quantize(Decimal("0.01")) if rng.random() < 0.03 else Decimal(0)
            payments.append((case_id, i, premium, "partially_refunded" if refunded else "paid", channel, premium,
                             refunded, closed or created))
        elif case_status == "payment_pending":
            payments.append((case_id, i, premium, "link_sent", channel, None, Decimal(0), None))
        elif rng.random() < 0.10:
            payments.append((case_id, i, premium, rng.choice(("expired", "failed")), channel, None, Decimal(0), None))
        if case_status != "renewed" and rng.random() < 0.01:
            payments.append((case_id, i, premium, "partially_paid", channel, (premium / 2).quantize(Decimal("0.01")),
                             Decimal(0), _at(min(today, end), rng)))
    return customers, policies, cases, payments


async def load_book(dsn: str, policies: int, today: date, seed: int = 20261128) -> dict[str, int]:
    """Load the book into an empty migrated database; the row counts by table."""
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("INSERT INTO roles (name, display_name, permissions, is_system) "
                           "VALUES ('agent', 'Agent', '{}'::jsonb, true) ON CONFLICT (name) DO NOTHING")
        agents = await _staff(conn)
        customers, policy_rows, cases, payments = _rows(policies, agents, today, random.Random(seed))
        generated = time.perf_counter()
        await conn.copy_records_to_table("customers", records=customers, columns=[
            "id", "customer_code", "first_name", "last_name"])
        await conn.copy_records_to_table("policies", records=policy_rows, columns=[
            "id", "policy_number", "customer_id", "policy_type", "premium_amount", "start_date", "end_date",
            "status", "renewal_date", "branch_id"])
        await conn.copy_records_to_table("renewal_cases", records=cases, columns=[
            "id", "case_number", "policy_id", "term_end_date", "status", "renewal_amount", "assigned_to",
            "assigned_at", "first_contact_date", "closed_at", "escalated_to", "flags", "created_at"])
        await conn.copy_records_to_table("payments", records=[
            (case, policy, amount, "INR", status, "dev", channel, paid, refunded, paid_at)
            for case, policy, amount, status, channel, paid, refunded, paid_at in payments], columns=[
            "case_id", "policy_id", "amount", "currency", "status", "provider", "channel", "paid_amount",
            "refunded_amount", "paid_at"])
        for table in ("customers", "policies", "renewal_cases"):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))")
        for table in ("customers", "policies", "renewal_cases", "payments", "users"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        await conn.close()
    counts = {"policies": len(policy_rows), "cases": len(cases), "payments": len(payments),
              "agents": sum(len(v) for v in agents.values())}
    print(f"loaded {counts['policies']:,} policies, {counts['cases']:,} cases, {counts['payments']:,} payments, "
          f"{counts['agents']} agents: generated in {generated - started:.1f} s, "
          f"copied and analysed in {time.perf_counter() - generated:.1f} s")
    return counts
