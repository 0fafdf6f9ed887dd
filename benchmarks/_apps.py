"""The two ASGI apps the benchmark serves with uvicorn (`--factory`): the real one and a bare baseline.

Both read their configuration from BENCH_* variables set by bench_policies_list.py.
"""

from __future__ import annotations

import os
import time
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec
from litestar import Litestar, MediaType, get


def _same_queries() -> tuple[Any, Any]:
    """The very statements the read model runs for page N of the default list, and its count."""
    from sqlalchemy import func, select

    from adapters.sqlalchemy.listing import CompiledQuery
    from adapters.sqlalchemy.read_models.policies import _policies_count_base, _policies_page
    from application.shared.pagination import SortKey

    page = CompiledQuery(_policies_page((), (SortKey("renewalDate"),)))
    count = CompiledQuery(select(func.count()).select_from(_policies_count_base(()).subquery()))
    return page, count


COUNT_TTL = 10.0


def ours() -> Litestar:
    from entrypoints.container import build_container
    from entrypoints.http.app import create_app
    from entrypoints.settings import load_settings

    return create_app(build_container(load_settings({
        "APP_ENV": "test", "LOG_LEVEL": "WARNING", "DATABASE_URL": os.environ["BENCH_DB_URL"],
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
        "DB_POOL_SIZE": os.environ.get("BENCH_POOL_SIZE", "10")})))


class Policy(msgspec.Struct, rename="camel", kw_only=True):
    id: str
    policy_number: str
    customer_id: str
    customer_name: str
    policy_type: str
    premium_amount: Decimal
    currency: str
    sum_assured: Decimal | None
    start_date: date
    end_date: date
    renewal_date: date
    grace_period_days: int
    status: str
    agent_id: str | None
    branch_id: str | None
    created_at: datetime
    updated_at: datetime


class Pagination(msgspec.Struct, rename="camel", kw_only=True):
    page: int
    limit: int
    total: int
    total_pages: int
    total_is_estimate: bool = False


class Data(msgspec.Struct):
    policies: list[Policy]
    pagination: Pagination


class Body(msgspec.Struct):
    data: Data
    success: bool = True


_ENCODER = msgspec.json.Encoder(decimal_format="number")


def _policy(r: Any) -> Policy:
    return Policy(
        id=f"policy-{r[0]}", policy_number=r[1], customer_id=f"customer-{r[2]}", customer_name=f"{r[3]} {r[4]}",
        policy_type=r[5], premium_amount=r[6], currency="INR", sum_assured=r[7], start_date=r[8], end_date=r[9],
        renewal_date=r[10], grace_period_days=r[11], status=r[12],
        agent_id=None if r[13] is None else f"user-{r[13]}", branch_id=None if r[14] is None else f"branch-{r[14]}",
        created_at=r[15], updated_at=r[16])


def bare() -> Litestar:
    dsn = os.environ["BENCH_DB_URL"]
    size = int(os.environ.get("BENCH_POOL_SIZE", "10"))
    state: dict[str, Any] = {}
    cache: dict[str, tuple[float, int]] = {}
    page_sql, count_sql = _same_queries()

    async def startup() -> None:
        state["pool"] = await asyncpg.create_pool(dsn, min_size=size, max_size=size)

    async def shutdown() -> None:
        await state["pool"].close()

    @get("/bare/policies", media_type=MediaType.JSON)
    async def list_policies(page: int = 1, limit: int = 20) -> bytes:
        estimate = False
        async with state["pool"].acquire() as conn:
            rows = await page_sql.fetch(conn, {"page_limit": limit, "page_offset": (page - 1) * limit})
            if page == 1 and len(rows) < limit:
                total = len(rows)
            elif (hit := cache.get("total")) and time.monotonic() - hit[0] < COUNT_TTL:
                total, estimate = hit[1], True
            else:
                now = time.monotonic()
                total = int(await count_sql.fetchval(conn, {}))
                cache["total"] = (now, total)
        pages = (total + limit - 1) // limit
        return _ENCODER.encode(Body(Data([_policy(r) for r in rows], Pagination(
            page=page, limit=limit, total=total, total_pages=pages, total_is_estimate=estimate))))

    return Litestar([list_policies], on_startup=[startup], on_shutdown=[shutdown], debug=False)
