"""The rows of a case-list export on PostgreSQL: a keyset walk over (renewal date, case id), batch by batch.

The filters and the scope are the case list's own (`CASE_WHERE`, `CASE_SCOPE`, imported from the policies read
model, so an export shows exactly the cases the list would). Each batch takes a pool connection only while it
runs: a slow download holds no connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select, tuple_

from adapters.asyncpg.read_pool import AsyncpgReadPool
from adapters.sqlalchemy.listing import CompiledQuery
from adapters.sqlalchemy.read_models.policies import (
    CASE_SCOPE,
    CASE_WHERE,
    Scope,
    case_scope,
    filter_params,
    filter_shape,
)
from adapters.sqlalchemy.tables.identity import users as u
from adapters.sqlalchemy.tables.policies import customers as c
from adapters.sqlalchemy.tables.policies import policies as p
from adapters.sqlalchemy.tables.policies import renewal_cases as rc
from application.policies.case_export import ExportRow
from application.policies.ports import CaseFilters
from application.shared.visibility import Visibility

__all__ = ["SqlCaseExportRows"]

_COLS = (rc.c.id, p.c.renewal_date, rc.c.case_number, p.c.policy_number, c.c.first_name, c.c.last_name, rc.c.status,
         rc.c.priority, func.nullif(func.concat_ws(" ", u.c.first_name, u.c.last_name), ""), rc.c.renewal_amount,
         rc.c.payment_status, rc.c.communication_attempts, rc.c.last_contact_date)


@lru_cache(maxsize=256)
def _batch(shape: tuple[str, ...], scope: Scope, after: bool) -> CompiledQuery:
    keyset = (tuple_(p.c.renewal_date, rc.c.id) > tuple_(bindparam("after_date"), bindparam("after_id")),) \
        if after else ()
    stmt: Select[Any] = (
        select(*_COLS)
        .select_from(rc.join(p, p.c.id == rc.c.policy_id).join(c, c.c.id == p.c.customer_id)
                     .outerjoin(u, u.c.id == rc.c.assigned_to))
        .where(and_(True, *CASE_SCOPE[scope](), *(CASE_WHERE[n]() for n in shape), *keyset))
        .order_by(p.c.renewal_date, rc.c.id)
        .limit(bindparam("batch_size")))
    return CompiledQuery(stmt)


class SqlCaseExportRows:
    def __init__(self, reads: AsyncpgReadPool, *, currency: str) -> None:
        self._reads = reads
        self._currency = currency

    def _row(self, r: Any) -> ExportRow:
        return ExportRow(case_number=r[2], policy_number=r[3], customer_name=f"{r[4]} {r[5]}", status=r[6],
                         priority=r[7], assignee=r[8], renewal_date=r[1], renewal_amount=r[9],
                         currency=self._currency, payment_status=r[10], communication_attempts=r[11],
                         last_contact_date=r[12])

    async def batches(self, filters: CaseFilters, visibility: Visibility, *, limit: int | None,
                      batch_size: int) -> AsyncIterator[list[ExportRow]]:
        params = filter_params(filters)
        shape = filter_shape(params, CASE_WHERE)
        scope, scope_params = case_scope(visibility)
        params.update(scope_params)
        left = limit
        after: tuple[Any, Any] | None = None
        while left is None or left > 0:
            size = batch_size if left is None else min(batch_size, left)
            query = _batch(shape, scope, after is not None)
            values = {**params, "batch_size": size}
            if after is not None:
                values.update(after_date=after[0], after_id=after[1])
            async with self._reads.acquire() as conn:
                rows = await query.fetch(conn, values)
            if not rows:
                return
            yield [self._row(r) for r in rows]
            if len(rows) < size:
                return
            after = (rows[-1][1], rows[-1][0])
            if left is not None:
                left -= len(rows)
