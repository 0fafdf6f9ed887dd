"""Shared list machinery: prebuilt statements per filter shape, prefix full-text, cheap totals."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy import BindParameter, ColumnElement, Select, any_, bindparam, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from adapters.asyncpg.read_pool import AsyncpgReadPool
from application.shared.pagination import PageRequest, SortKey

__all__ = ["LIMIT", "OFFSET", "CompiledQuery", "TotalCounter", "any_of", "order_by", "prefix_tsquery",
           "tsquery_param"]

_TOKEN = re.compile(r"[0-9A-Za-z\u00c0-\uffff]+")
LIMIT: BindParameter[int] = bindparam("page_limit")
OFFSET: BindParameter[int] = bindparam("page_offset")


_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


class CompiledQuery:
    """A statement SQLAlchemy compiles once, run by asyncpg directly.

    Hot read paths skip SQLAlchemy's per-execution work (cache keys, result metadata, row objects,
    pool events); SQLAlchemy still writes the SQL.
    """

    def __init__(self, stmt: Select[Any]) -> None:
        compiled = stmt.compile(dialect=_DIALECT)
        self.sql = compiled.string
        self._names = tuple(compiled.positiontup or ())
        self._defaults = {k: v for k, v in compiled.params.items() if v is not None}

    def _args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[n] if n in params else self._defaults.get(n) for n in self._names]

    async def fetch(self, conn: asyncpg.Connection, params: Mapping[str, Any]) -> list[Any]:
        records: list[Any] = await conn.fetch(self.sql, *self._args(params))
        return records

    async def fetchval(self, conn: asyncpg.Connection, params: Mapping[str, Any]) -> Any:
        return await conn.fetchval(self.sql, *self._args(params))


def any_of(column: ColumnElement[Any], name: str, item_type: Any) -> ColumnElement[bool]:
    """`column = ANY($n)`: one array parameter whatever the number of values (no statement per count)."""
    return column == any_(bindparam(name, type_=ARRAY(item_type)))


def tsquery_param(q: str | None) -> str | None:
    """`asha rao` -> `asha:* & rao:*` (every word a prefix, ANDed); None when nothing is searchable."""
    tokens = [t.lower() for t in _TOKEN.findall(q or "")][:8]
    return " & ".join(f"{t}:*" for t in tokens) or None


def prefix_tsquery() -> ColumnElement[Any]:
    return func.to_tsquery("simple", bindparam("tsq"))


def order_by(sort: Sequence[SortKey], columns: Mapping[str, ColumnElement[Any]],
             tiebreak: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    clauses = [columns[k.field].desc() if k.descending else columns[k.field].asc() for k in sort]
    return [*clauses, tiebreak.desc() if sort and sort[-1].descending else tiebreak.asc()]


def page_params(page: PageRequest) -> dict[str, int]:
    return {"page_limit": page.limit, "page_offset": page.offset}


class TotalCounter:
    """Totals that never count a large table on every request.

    Up to `cap` rows the count is exact and cheap (a LIMITed count). Above it one exact count per
    filter runs at a time (on its own connection) and is reused for `ttl` seconds; after that the
    stale figure is served while a single refresh runs. Reused figures are flagged as estimates.
    """

    def __init__(self, reads: AsyncpgReadPool, *, cap: int = 1000, ttl: float = 10.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._reads = reads
        self._cap = cap
        self._ttl = ttl
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, int]] = {}
        self._running: dict[str, asyncio.Task[int]] = {}
        self._compiled: dict[tuple[Select[Any], bool], CompiledQuery] = {}

    async def count(self, conn: asyncpg.Connection, filtered: Select[Any], params: dict[str, Any],
                    key: str) -> tuple[int, bool]:
        cached = self._cache.get(key)
        if cached is not None:
            if self._monotonic() - cached[0] >= self._ttl:
                self._refresh(key, filtered, params)
            return cached[1], True
        total = int(await self._query(filtered, capped=True).fetchval(conn, params) or 0)
        if total <= self._cap:
            return total, False
        cached = self._cache.get(key)
        if cached is not None:  # another request finished the exact count while this one was capping
            return cached[1], True
        return await asyncio.shield(self._refresh(key, filtered, params)), False

    def _query(self, filtered: Select[Any], *, capped: bool) -> CompiledQuery:
        """The count statement for a base query, compiled once (base queries are themselves cached)."""
        key = (filtered, capped)  # Select hashes by identity; the dict keeps the base alive
        query = self._compiled.get(key)
        if query is None:
            rows = filtered.with_only_columns(literal(1), maintain_column_froms=True).order_by(None)
            if capped:
                rows = rows.limit(self._cap + 1)
            query = CompiledQuery(select(func.count()).select_from(rows.subquery()))
            self._compiled[key] = query
        return query

    def _refresh(self, key: str, filtered: Select[Any], params: dict[str, Any]) -> asyncio.Task[int]:
        task = self._running.get(key)
        if task is None:
            task = asyncio.create_task(self._exact(key, filtered, params))
            self._running[key] = task
        return task

    async def _exact(self, key: str, filtered: Select[Any], params: dict[str, Any]) -> int:
        try:
            async with self._reads.acquire() as conn:
                total = int(await self._query(filtered, capped=False).fetchval(conn, params) or 0)
            if len(self._cache) > 1024:
                self._cache.clear()
            self._cache[key] = (self._monotonic(), total)
            return total
        finally:
            self._running.pop(key, None)
