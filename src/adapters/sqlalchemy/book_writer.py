"""The set-based book writer: one batch of an upload in one transaction, on a raw asyncpg connection.

Per batch (about 5,000 rows), in one transaction:

1. the checkpoint guard: `UPDATE file_uploads SET processed_records = checkpoint, counts + this batch ...
   WHERE id = upload AND processed_records = <the checkpoint this batch starts after>`. No row updated
   means another run already committed this batch (or batches cut differently over the same rows): the
   transaction is rolled back and zeros are returned (idempotent replay). Being
   first, the guard also locks the upload's row, so two workers never write the same upload at once;
2. the batch's rows are COPYed (binary) into a temporary staging table created `ON COMMIT DROP`;
3. customers are upserted from it by customer_code (the last row of a code wins), policies by
   policy_number with customer_id joined from customers; an existing row is updated only when a value
   differs (`ON CONFLICT ... DO UPDATE ... WHERE (...) IS DISTINCT FROM (...)`), so an unchanged book
   uploaded again writes nothing. `xmax = 0` on the returned rows tells inserted from updated;
4. every staged policy whose (resulting) status is active gets an open renewal case for its current term
   (policy_id, end_date) unless one exists: an existing case is reused and linked to this batch when it had
   no batch. Unlike the daily job, the renewal window does not apply: the desk uploads the policies it
   wants worked. Case numbers are `RC-<year of today>-<seq>` as the daily job makes them, drawn only for
   the terms that have no case (NOT EXISTS), so numbers are not wasted on existing cases; the priority is
   the row's when the file states one, else the daily job's rule (days to renewal and premium);
5. refused rows go to upload_row_errors (`ON CONFLICT DO NOTHING` on (upload_id, row_number)).

Blank optional cells never erase what is known: email, phone, date of birth, address, communication
preferences, sum assured, agent and branch keep their stored value when the row has none, and a KYC status
of `pending` (the value of a blank cell) does not overwrite a verified or rejected one.

Lookups of the book's tables by key go through `CROSS JOIN LATERAL (... OFFSET 0)`: the fence keeps them
index probes, so a batch costs the same whatever the size of the book (the planner, knowing nothing of the
unanalysed staging table, would otherwise hash whole tables; ANALYZE of the stage costs more than it saves).
The staging table is created per transaction (`ON COMMIT DROP`, about 1 ms a batch), so no permanent or
UNLOGGED table, no clean-up and nothing shared between concurrent writers.

SQLAlchemy is not used here: its per-row work costs more than the database does. The connection comes from
the shared `AsyncpgReadPool` (one connection for the length of a batch, a fraction of a second), which the
container already opens lazily and closes on shutdown.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from adapters.asyncpg.read_pool import AsyncpgReadPool
from application.uploads.ports import BatchWritten, ReferenceData
from domain.policies import rules
from domain.shared.errors import NotFound
from domain.uploads.model import BookRow, RowError, Upload

__all__ = ["STAGE_COLUMNS", "SqlBookWriter", "cells_json", "reasons_json"]

_ZERO = BatchWritten(customers_inserted=0, customers_updated=0, policies_inserted=0, policies_updated=0,
                     cases_opened=0)

STAGE_COLUMNS = (
    "row_number", "customer_code", "first_name", "last_name", "email", "phone", "date_of_birth", "kyc_status",
    "address", "communication_preferences", "policy_number", "policy_type", "premium_amount", "sum_assured",
    "start_date", "end_date", "renewal_date", "policy_status", "branch_id", "agent_id", "priority", "notes",
)

# JSON columns are staged as text and cast on the way out: binary COPY needs no jsonb codec that way
_CREATE_STAGE = """
CREATE TEMP TABLE book_stage (
    row_number integer NOT NULL, customer_code text NOT NULL, first_name text NOT NULL, last_name text NOT NULL,
    email text, phone text, date_of_birth date, kyc_status text NOT NULL, address text,
    communication_preferences text, policy_number text NOT NULL, policy_type text NOT NULL,
    premium_amount numeric NOT NULL, sum_assured numeric, start_date date NOT NULL, end_date date NOT NULL,
    renewal_date date NOT NULL, policy_status text NOT NULL, branch_id integer, agent_id integer,
    priority text, notes text
) ON COMMIT DROP
"""

_CHECKPOINT = """
UPDATE file_uploads
SET processed_records = $2, successful_records = COALESCE(successful_records, 0) + $3,
    failed_records = COALESCE(failed_records, 0) + $4, updated_at = $5
WHERE id = $1 AND processed_records = $6 AND processed_records < $2
RETURNING id
"""

_BATCH_COUNTS = """
UPDATE upload_batches
SET processed_records = processed_records + $2 + $3, successful_records = successful_records + $2,
    failed_records = failed_records + $3, updated_at = $4
WHERE upload_id = $1
RETURNING id
"""

_CUSTOMERS = """
WITH src AS (
    SELECT DISTINCT ON (customer_code) customer_code, first_name, last_name, email, phone, date_of_birth,
           kyc_status, address::jsonb AS address, communication_preferences::jsonb AS communication_preferences
    FROM book_stage
    ORDER BY customer_code, row_number DESC
), up AS (
    INSERT INTO customers AS c (customer_code, first_name, last_name, email, phone, date_of_birth, kyc_status,
                                address, communication_preferences, created_at, updated_at)
    SELECT customer_code, first_name, last_name, email, phone, date_of_birth, kyc_status, address,
           communication_preferences, $1, $1
    FROM src
    ON CONFLICT (customer_code) DO UPDATE SET
        first_name = EXCLUDED.first_name,
        last_name = EXCLUDED.last_name,
        email = COALESCE(EXCLUDED.email, c.email),
        phone = COALESCE(EXCLUDED.phone, c.phone),
        date_of_birth = COALESCE(EXCLUDED.date_of_birth, c.date_of_birth),
        kyc_status = CASE WHEN EXCLUDED.kyc_status = 'pending' THEN c.kyc_status ELSE EXCLUDED.kyc_status END,
        address = COALESCE(EXCLUDED.address, c.address),
        communication_preferences = COALESCE(EXCLUDED.communication_preferences, c.communication_preferences),
        updated_at = EXCLUDED.updated_at
    WHERE (c.first_name, c.last_name, c.email, c.phone, c.date_of_birth, c.kyc_status, c.address,
           c.communication_preferences)
          IS DISTINCT FROM
          (EXCLUDED.first_name, EXCLUDED.last_name, COALESCE(EXCLUDED.email, c.email),
           COALESCE(EXCLUDED.phone, c.phone), COALESCE(EXCLUDED.date_of_birth, c.date_of_birth),
           CASE WHEN EXCLUDED.kyc_status = 'pending' THEN c.kyc_status ELSE EXCLUDED.kyc_status END,
           COALESCE(EXCLUDED.address, c.address),
           COALESCE(EXCLUDED.communication_preferences, c.communication_preferences))
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM up
"""

_POLICIES = """
WITH src AS (
    SELECT DISTINCT ON (s.policy_number) s.policy_number, c.id AS customer_id, s.policy_type, s.premium_amount,
           s.sum_assured, s.start_date, s.end_date, s.policy_status, s.renewal_date, s.agent_id, s.branch_id
    FROM book_stage s
    CROSS JOIN LATERAL (SELECT id FROM customers c WHERE c.customer_code = s.customer_code OFFSET 0) c
    ORDER BY s.policy_number, s.row_number DESC
), up AS (
    INSERT INTO policies AS p (policy_number, customer_id, policy_type, premium_amount, sum_assured, start_date,
                               end_date, status, renewal_date, agent_id, branch_id, created_at, updated_at)
    SELECT policy_number, customer_id, policy_type, premium_amount, sum_assured, start_date, end_date,
           policy_status, renewal_date, agent_id, branch_id, $1, $1
    FROM src
    ON CONFLICT (policy_number) DO UPDATE SET
        customer_id = EXCLUDED.customer_id,
        policy_type = EXCLUDED.policy_type,
        premium_amount = EXCLUDED.premium_amount,
        sum_assured = COALESCE(EXCLUDED.sum_assured, p.sum_assured),
        start_date = EXCLUDED.start_date,
        end_date = EXCLUDED.end_date,
        status = EXCLUDED.status,
        renewal_date = EXCLUDED.renewal_date,
        agent_id = COALESCE(EXCLUDED.agent_id, p.agent_id),
        branch_id = COALESCE(EXCLUDED.branch_id, p.branch_id),
        updated_at = EXCLUDED.updated_at
    WHERE (p.customer_id, p.policy_type, p.premium_amount, p.sum_assured, p.start_date, p.end_date, p.status,
           p.renewal_date, p.agent_id, p.branch_id)
          IS DISTINCT FROM
          (EXCLUDED.customer_id, EXCLUDED.policy_type, EXCLUDED.premium_amount,
           COALESCE(EXCLUDED.sum_assured, p.sum_assured), EXCLUDED.start_date, EXCLUDED.end_date, EXCLUDED.status,
           EXCLUDED.renewal_date, COALESCE(EXCLUDED.agent_id, p.agent_id), COALESCE(EXCLUDED.branch_id, p.branch_id))
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM up
"""

# $1 batch id, $2 today, $3 year (text), $4 now
_CASES = f"""
WITH terms AS MATERIALIZED (
    SELECT p.id AS policy_id, p.end_date, p.premium_amount, p.renewal_date, s.priority, s.notes, s.row_number
    FROM (SELECT DISTINCT ON (policy_number) policy_number, priority, notes, row_number
          FROM book_stage ORDER BY policy_number, row_number DESC) s
    CROSS JOIN LATERAL (SELECT id, end_date, premium_amount, renewal_date, status FROM policies p
                        WHERE p.policy_number = s.policy_number OFFSET 0) p
    WHERE p.status = 'active'
), linked AS (
    UPDATE renewal_cases rc SET batch_id = $1, updated_at = $4
    FROM terms t
    WHERE rc.policy_id = t.policy_id AND rc.term_end_date = t.end_date AND rc.batch_id IS NULL
), fresh AS (
    SELECT t.*, nextval('renewal_case_number_seq') AS seq
    FROM (SELECT * FROM terms t
          WHERE NOT EXISTS (SELECT 1 FROM renewal_cases rc
                            WHERE rc.policy_id = t.policy_id AND rc.term_end_date = t.end_date)
          ORDER BY t.row_number) t
), ins AS (
    INSERT INTO renewal_cases AS rc (case_number, policy_id, term_end_date, renewal_amount, priority, batch_id,
                                     notes, created_at, updated_at)
    SELECT 'RC-' || $3::text || '-' || lpad(seq::text, greatest(6, length(seq::text)), '0'),
           policy_id, end_date, premium_amount,
           COALESCE(priority,
                    CASE WHEN renewal_date - $2::date <= {rules.URGENT_DAYS}
                              AND premium_amount >= {rules.HIGH_PREMIUM} THEN 'urgent'
                         WHEN renewal_date - $2::date <= {rules.URGENT_DAYS}
                              OR premium_amount >= {rules.HIGH_PREMIUM} THEN 'high'
                         WHEN renewal_date - $2::date > {rules.SOON_DAYS}
                              AND premium_amount < {rules.LOW_PREMIUM} THEN 'low'
                         ELSE 'medium' END),
           $1, notes, $4, $4
    FROM fresh
    -- a case the daily job opened meanwhile: reuse it as the UPDATE above would have
    ON CONFLICT (policy_id, term_end_date) DO UPDATE SET batch_id = EXCLUDED.batch_id, updated_at = EXCLUDED.updated_at
    WHERE rc.batch_id IS NULL
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted) FROM ins
"""

_ROW_ERRORS = """
INSERT INTO upload_row_errors (upload_id, row_number, cells, reasons)
SELECT $1, r, c::jsonb, m::jsonb FROM unnest($2::integer[], $3::text[], $4::text[]) AS e(r, c, m)
ON CONFLICT (upload_id, row_number) DO NOTHING
"""

_BRANCHES = "SELECT upper(code), id FROM branches"
_AGENTS = "SELECT lower(email), id FROM users WHERE status = 'active'"


def _json_default(value: object) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def cells_json(cells: dict[str, Any]) -> str:
    """A refused row's cells as stored: dates ISO 8601, decimals as text, anything else as its str()."""
    return json.dumps(cells, default=_json_default, ensure_ascii=False)


def reasons_json(reasons: Sequence[tuple[str, str]]) -> str:
    return json.dumps([{"column": column, "message": message} for column, message in reasons], ensure_ascii=False)


_PLAIN = (str, bool, int, type(None))  # the validator's address parts and channel consents
_encode = msgspec.json.encode


def _dumps(value: dict[str, Any] | None) -> str | None:
    if value is None:
        return None
    if all(type(key) is str and type(item) in _PLAIN for key, item in value.items()):
        return _encode(value).decode()  # the same JSON as json.dumps but compact, in a quarter of the time
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _record(row: BookRow) -> tuple[Any, ...]:
    return (row.row_number, row.customer_code, row.first_name, row.last_name, row.email, row.phone,
            row.date_of_birth, row.kyc_status, _dumps(row.address), _dumps(row.communication_preferences),
            row.policy_number, row.policy_type, row.premium_amount, row.sum_assured, row.start_date, row.end_date,
            row.renewal_date, row.policy_status, row.branch_id, row.agent_id, row.priority, row.notes)


class _Replayed(Exception):
    """The checkpoint guard matched nothing: roll the batch back."""


class SqlBookWriter:
    """`SqlBookWriter(read_pool)`: batches are written on connections of the shared asyncpg pool."""

    def __init__(self, read_pool: AsyncpgReadPool) -> None:
        self._pool = read_pool

    async def write_batch(self, upload: Upload, rows: Sequence[BookRow], refused: Sequence[RowError], *,
                          checkpoint: int, today: date, now: datetime) -> BatchWritten:
        if upload.id is None:
            raise ValueError("the upload has no id; add it first")
        async with self._pool.acquire() as conn:
            try:
                async with conn.transaction():
                    return await self._write(conn, upload.id, upload.batch_id, rows, refused,
                                             start_after=upload.processed_records, checkpoint=checkpoint,
                                             today=today, now=now)
            except _Replayed:
                pass
            if await conn.fetchval("SELECT 1 FROM file_uploads WHERE id = $1", upload.id) is None:
                raise NotFound("upload", upload.id)
            return _ZERO

    async def _write(self, conn: asyncpg.Connection, upload_id: int, batch_id: int | None,
                     rows: Sequence[BookRow], refused: Sequence[RowError], *, start_after: int, checkpoint: int,
                     today: date, now: datetime) -> BatchWritten:
        if await conn.fetchval(_CHECKPOINT, upload_id, checkpoint, len(rows), len(refused), now,
                               start_after) is None:
            raise _Replayed
        batch_id = await conn.fetchval(_BATCH_COUNTS, upload_id, len(rows), len(refused), now) or batch_id
        written = _ZERO
        if rows:
            await conn.execute(_CREATE_STAGE)
            await conn.copy_records_to_table("book_stage", records=[_record(r) for r in rows],
                                             columns=STAGE_COLUMNS)
            customers = await conn.fetchrow(_CUSTOMERS, now)
            policies = await conn.fetchrow(_POLICIES, now)
            opened = await conn.fetchval(_CASES, batch_id, today, str(today.year), now)
            written = BatchWritten(customers_inserted=customers["inserted"], customers_updated=customers["updated"],
                                   policies_inserted=policies["inserted"], policies_updated=policies["updated"],
                                   cases_opened=opened)
        if refused:
            await conn.execute(_ROW_ERRORS, upload_id, [e.row_number for e in refused],
                               [cells_json(e.cells) for e in refused], [reasons_json(e.reasons) for e in refused])
        return written

    async def reference_data(self) -> ReferenceData:
        async with self._pool.acquire() as conn:
            branch_rows = await conn.fetch(_BRANCHES)
            agent_rows = await conn.fetch(_AGENTS)
        return ReferenceData(branch_ids={code: branch_id for code, branch_id in branch_rows},
                             agent_ids={email: user_id for email, user_id in agent_rows})
