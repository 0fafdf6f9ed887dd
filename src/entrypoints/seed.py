"""Demo data for `renewals seed-demo`: branches, agents, ~1,000 customers and policies around today."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sqlalchemy.tables.identity import branches, roles, users
from adapters.sqlalchemy.tables.policies import customers, policies
from domain.identity.roles import BUILT_IN_ROLES

__all__ = ["seed_demo"]

FIRST = ["Aarav", "Vivaan", "Aditya", "Ananya", "Diya", "Ishaan", "Kavya", "Meera", "Rohan", "Saanvi", "Arjun",
         "Priya", "Rahul", "Sneha", "Vikram", "Neha", "Karan", "Pooja", "Suresh", "Lakshmi", "Farhan", "Zoya"]
LAST = ["Sharma", "Verma", "Iyer", "Nair", "Reddy", "Patel", "Gupta", "Khan", "Das", "Menon", "Rao", "Singh",
        "Joshi", "Mehta", "Kulkarni", "Chatterjee", "Bose", "Pillai", "Fernandes", "Kapoor"]
BRANCHES = [("MUM01", "Mumbai Central", "West", "Maharashtra", "Mumbai"),
            ("DEL01", "Delhi Connaught Place", "North", "Delhi", "New Delhi"),
            ("BLR01", "Bengaluru Indiranagar", "South", "Karnataka", "Bengaluru"),
            ("CHE01", "Chennai T Nagar", "South", "Tamil Nadu", "Chennai")]
PREMIUMS = {"motor": (4000, 30000), "health": (8000, 60000), "life": (15000, 120000), "term": (6000, 40000),
            "home": (3000, 20000), "travel": (800, 6000), "personal_accident": (1000, 8000)}


async def _role_ids(conn: AsyncConnection) -> dict[str, int]:
    """The built-in roles' ids; `renewals migrate` inserts the roles (ProvisioningService)."""
    rows = (await conn.execute(select(roles.c.name, roles.c.id))).all()
    ids = {name: int(role_id) for name, role_id in rows}
    missing = [role.name for role in BUILT_IN_ROLES if role.name not in ids]
    if missing:
        raise RuntimeError(f"built-in roles missing ({', '.join(missing)}): run `renewals migrate` first")
    return ids


async def seed_demo(engine: AsyncEngine, *, today: date, count: int = 1000, seed: int = 7) -> int:
    """Insert demo data once; returns how many policies were added (0 when data already exists)."""
    rng = random.Random(seed)
    async with engine.begin() as conn:
        if (await conn.scalar(select(func.count()).select_from(policies))) or 0:
            return 0
        role_ids = await _role_ids(conn)
        branch_ids = [await conn.scalar(insert(branches).values(
            code=code, name=name, region=region, state=state, city=city).returning(branches.c.id))
            for code, name, region, state, city in BRANCHES]
        agent_ids: list[int] = []
        for i in range(8):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            # "!" is no argon2 hash: these demo accounts cannot log in until identity sets passwords
            agent_ids.append(await conn.scalar(insert(users).values(
                email=f"agent{i + 1}@demo.renewals.test", password_hash="!", first_name=first, last_name=last,
                role_id=role_ids["agent"], branch_id=branch_ids[i % len(branch_ids)], status="active",
                department="Renewals", job_title="Renewal agent").returning(users.c.id)))
        for i, branch_id in enumerate(branch_ids):
            manager_id = await conn.scalar(insert(users).values(
                email=f"manager{i + 1}@demo.renewals.test", password_hash="!", first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST), role_id=role_ids["manager"], branch_id=branch_id, status="active",
                department="Renewals", job_title="Branch manager").returning(users.c.id))
            await conn.execute(update(branches).where(branches.c.id == branch_id).values(manager_id=manager_id))
        customer_rows: list[dict[str, Any]] = []
        for i in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            customer_rows.append({
                "customer_code": f"CUST-{i + 1:06d}", "first_name": first, "last_name": last,
                "email": f"{first}.{last}.{i + 1}@example.in".lower(),
                "phone": f"+91{rng.choice('6789')}{rng.randrange(10**8, 10**9)}",
                "date_of_birth": today - timedelta(days=rng.randrange(22 * 365, 70 * 365)),
                "kyc_status": rng.choice(["verified", "verified", "pending"]),
                "communication_preferences": {"email": True, "sms": True, "whatsapp": rng.random() < 0.6}})
        ids = list((await conn.execute(insert(customers).returning(customers.c.id), customer_rows)).scalars())
        policy_rows: list[dict[str, Any]] = []
        for i, customer_id in enumerate(ids):
            kind = rng.choice(list(PREMIUMS))
            low, high = PREMIUMS[kind]
            end = today + timedelta(days=rng.randrange(-60, 120))
            branch = rng.randrange(len(branch_ids))
            policy_rows.append({
                "policy_number": f"POL-{end.year - 1}-{i + 1:06d}", "customer_id": customer_id, "policy_type": kind,
                "premium_amount": Decimal(rng.randrange(low * 100, high * 100)) / 100,
                "sum_assured": Decimal(rng.randrange(low * 20, high * 40)), "start_date": end - timedelta(days=365),
                "end_date": end, "renewal_date": end, "status": "active" if end >= today - timedelta(days=30)
                else "lapsed", "agent_id": agent_ids[branch + 4 * rng.randrange(2)], "branch_id": branch_ids[branch]})
        await conn.execute(insert(policies), policy_rows)
        for name in ("customer_code_seq", "policy_number_seq"):
            await conn.execute(select(func.setval(name, count)))
    return len(policy_rows)
