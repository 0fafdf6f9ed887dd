"""Shared list machinery: sorting by whitelisted columns, prefix full-text and cheap totals."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from application.shared.pagination import PageRequest

__all__ = ["TotalCounter", "order_by", "prefix_tsquery"]

_TOKEN = re.compile(r"[0-9A-Za-z\u00c0-\uffff]+")


def prefix_tsquery(q: str) -> ColumnElement[Any] | None:
    """Every word of `q` as a prefix match, ANDed; None when `q` has no searchable word."""
    tokens = [t.lower() for t in _TOKEN.findall(q)][:8]
    if not tokens:
        return None
    return func.to_tsquery("simple", " & ".join(f"{t}:*" for t in tokens))


def order_by(page: PageRequest, columns: Mapping[str, ColumnElement[Any]],
             tiebreak: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    clauses = [columns[k.field].desc() if k.descending else columns[k.field].asc() for k in page.sort]
    return [*clauses, tiebreak.desc() if page.sort and page.sort[-1].descending else tiebreak.asc()]


class TotalCounter:
    """Counts exactly up to `cap`; above it, an exact count is reused for `ttl` seconds.

    A large table is then never fully counted on every request, small results are always exact,
    and `is_estimate` tells the client when the figure may be a few seconds old.
    """

    def __init__(self, *, cap: int = 1000, ttl: float = 10.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._cap = cap
        self._ttl = ttl
        self._cache: dict[str, tuple[float, int]] = {}

    async def count(self, conn: AsyncConnection, filtered: Select[Any],
                    key_parts: Sequence[object]) -> tuple[int, bool]:
        key = repr(key_parts)
        now = self._monotonic()
        cached = self._cache.get(key)
        if cached and now - cached[0] < self._ttl:
            return cached[1], True
        capped = select(func.count()).select_from(
            filtered.with_only_columns(literal(1)).order_by(None).limit(self._cap + 1).subquery())
        total = int(await conn.scalar(capped) or 0)
        if total <= self._cap:
            return total, False
        exact = select(func.count()).select_from(filtered.with_only_columns(literal(1)).order_by(None).subquery())
        total = int(await conn.scalar(exact) or 0)
        if len(self._cache) > 1024:
            self._cache.clear()
        self._cache[key] = (now, total)
        return total, False
