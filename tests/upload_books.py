"""Policy books for the upload tests, generated on the fly (nothing binary is committed), and the plumbing the
upload API tests share: a container whose stored files and scratch files live in the test's tmp_path, the
multipart POST, and the check that a refused file left nothing behind.

The hostile workbooks reuse the builders of tests/unit/adapters/test_spreadsheet_inspection.py.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openpyxl
from sqlalchemy import text

from adapters.system.clock import FixedClock
from entrypoints.container import AppContainer, build_container
from tests.conftest import settings_for_tests, truncate_all
from tests.unit.adapters.test_spreadsheet_inspection import BILLION_LAUGHS, package

__all__ = [
    "BAD_KINDS", "BILLION_LAUGHS", "FRONTEND_HEADER", "XLSX", "Book", "book_bytes", "count", "csv_bytes",
    "frontend_book_csv", "nothing_written", "package", "policy_book", "post_book", "read_report", "upload_container",
    "xlsx_bytes", "zip_bomb",
]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ("policy_number", "first_name", "last_name", "email", "phone", "policy_type", "premium_amount",
          "start_date", "end_date", "status", "city")
FIRST_START = date(2026, 1, 5)

# the kinds of bad row, each with the header of the column its reason names ("" would be the row as a whole)
BAD_KINDS: dict[str, str] = {
    "bad email": "email",
    "bad phone": "phone",
    "unknown policy type": "policy_type",
    "negative premium": "premium_amount",
    "end before start": "end_date",
    "missing last name": "last_name",
    "duplicate policy number": "policy_number",
}
_BAD_OFFSET = 50  # rows i with i % 100 in 50..56 are bad: 7 %
_DUPLICATE_BACK = 20  # a duplicate repeats the policy number of the row 20 before (always a good one)

# the frontend's public/PolicyDataFormat.csv header: 34 columns, agent_name and agent_code twice, no policy number
FRONTEND_HEADER = (
    "first_name", "last_name", "phone", "email", "gender", "date_of_birth", "kyc_status",
    "nominee_name", "nominee_relationship", "nominee_contact",
    "agent_name", "agent_code",
    "state", "city", "address_line1", "kyc_documents", "communication_preferences",
    "priority", "renewal_amount", "payment_status", "communication_attempts", "notes",
    "policy_type", "premium_amount", "start_date", "end_date", "sum_assured", "payment_frequency",
    "agent_name", "agent_code",
    "postal_code", "channel", "channel_source", "last_contact_date",
)


# --- the container and the HTTP plumbing ----------------------------------------------------------------

@asynccontextmanager
async def upload_container(tmp_path: Path, clock: FixedClock, **env: str) -> AsyncIterator[AppContainer]:
    """The SQL container of tests/conftest.py, with its kept files under `tmp_path/files` and its scratch
    files under `tmp_path/data/tmp`; `env` overrides more settings (UPLOAD_BATCH_ROWS ...)."""
    settings = settings_for_tests(LOCAL_STORAGE_DIR=str(tmp_path / "files"), DATA_DIR=str(tmp_path / "data"),
                                  STORAGE_BACKEND="local", **env)
    container = build_container(settings)
    container.core.clock.override(clock)
    engine = container.adapters.engine()
    await truncate_all(engine)
    try:
        yield container
    finally:
        await container.adapters.read_pool().close()
        await engine.dispose()


async def post_book(client: httpx.AsyncClient, data: bytes, filename: str, *, force: bool = False,
                    description: str | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
    """POST /api/upload/file as the frontend does: the `file` part, and `filename` and `metadata` fields."""
    content_type = XLSX if filename.endswith(".xlsx") else "text/csv"
    form = {"filename": filename}
    if description is not None:
        form["metadata"] = json.dumps({"description": description})
    return await client.post("/api/upload/file" + ("?force=true" if force else ""),
                             files={"file": (filename, data, content_type)}, data=form, headers=headers)


async def count(container: AppContainer, sql: str, **params: Any) -> int:
    async with container.adapters.engine().connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


async def nothing_written(container: AppContainer, tmp_path: Path) -> None:
    """No upload row, no batch, no ingestion job, no kept file, and no spooled file left in the scratch dir."""
    assert await count(container, "SELECT count(*) FROM file_uploads") == 0
    assert await count(container, "SELECT count(*) FROM upload_batches") == 0
    assert await count(container, "SELECT count(*) FROM outbox") == 0
    assert await count(container, "SELECT count(*) FROM upload_row_errors") == 0
    stored = [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
    assert stored == []
    scratch = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert scratch == []


# --- policy books ------------------------------------------------------------------------------------------

@dataclass
class Book:
    """A book as typed values (dates, Decimals, text); which rows are bad and why; the good rows' policies."""

    header: list[str]
    rows: list[list[object]]
    bad: dict[int, str] = field(default_factory=dict)  # sheet row number (header = row 1) -> kind of BAD_KINDS
    premiums: dict[str, Decimal] = field(default_factory=dict)  # good rows: policy number -> premium
    active: set[str] = field(default_factory=set)  # good rows whose policy is active

    @property
    def good(self) -> int:
        return len(self.rows) - len(self.bad)

    def column(self, name: str) -> int:
        return self.header.index(name)


def _good_row(i: int, prefix: str) -> list[object]:
    start = FIRST_START + timedelta(days=i % 300)
    return [f"{prefix}-{i:06d}", f"First{i}", f"Last{i}", f"{prefix.lower()}.customer{i}@example.in",
            f"98{i:08d}", ("motor", "health", "life", "home")[i % 4], Decimal(5000 + i) + Decimal("0.50"),
            start, start + timedelta(days=364), "lapsed" if i % 100 == 99 else "active", "Pune"]


def policy_book(rows: int, *, bad: bool = True, prefix: str = "POL") -> Book:
    """`rows` data rows with distinct customers and stated policy numbers; with `bad`, 7 % of them (rows i with
    i % 100 in 50..56) carry one problem each, of the seven kinds of BAD_KINDS in turn. Every 100th good row
    (i % 100 == 99) is a lapsed policy: it gets no renewal case."""
    book = Book(header=list(HEADER), rows=[])
    c = book.column
    kinds = list(BAD_KINDS)
    for i in range(rows):
        row = _good_row(i, prefix)
        slot = i % 100 - _BAD_OFFSET
        if bad and 0 <= slot < len(kinds):
            kind = kinds[slot]
            book.bad[i + 2] = kind
            if kind == "bad email":
                row[c("email")] = f"customer{i}-at-example.in"
            elif kind == "bad phone":
                row[c("phone")] = "12345"
            elif kind == "unknown policy type":
                row[c("policy_type")] = "spaceship"
            elif kind == "negative premium":
                row[c("premium_amount")] = Decimal("-100.00")
            elif kind == "end before start":
                start = row[c("start_date")]
                assert isinstance(start, date)
                row[c("end_date")] = start - timedelta(days=1)
            elif kind == "missing last name":
                row[c("last_name")] = None
            else:
                row[c("policy_number")] = book.rows[i - _DUPLICATE_BACK][c("policy_number")]
        else:
            number = str(row[c("policy_number")])
            premium = row[c("premium_amount")]
            assert isinstance(premium, Decimal)
            book.premiums[number] = premium
            if row[c("status")] == "active":
                book.active.add(number)
        book.rows.append(row)
    return book


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_text(value) for value in row] for row in rows)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], *, title: str = "Policies") -> bytes:
    """A streamed (write-only) openpyxl workbook: dates as dates, amounts as numbers."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(list(header))
    for row in rows:
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def book_bytes(book: Book, kind: str) -> bytes:
    return csv_bytes(book.header, book.rows) if kind == "csv" else xlsx_bytes(book.header, book.rows)


def frontend_book_csv(rows: int) -> bytes:
    """The frontend's 34-column template with `rows` rows filled in as a desk would (day-first dates, no
    policy numbers, the agent columns twice)."""
    lines = []
    for i in range(rows):
        start = FIRST_START + timedelta(days=7 * i)
        end = start + timedelta(days=364)
        values = {
            "first_name": f"Meera{i}", "last_name": "Iyer", "phone": f"+91 97{i:08d}",
            "email": f"meera{i}@example.in", "gender": "female", "date_of_birth": f"{1 + i % 28:02d}/04/1985",
            "kyc_status": "verified", "nominee_name": "Ravi Iyer", "nominee_relationship": "spouse",
            "nominee_contact": "9876543210", "agent_name": "Agent Smith", "agent_code": "AG01", "state": "Kerala",
            "city": "Kochi", "address_line1": f"{i} Marine Drive", "kyc_documents": "aadhaar,pan",
            "communication_preferences": "email=yes; sms=yes; whatsapp=no", "priority": "high",
            "renewal_amount": "13000", "payment_status": "pending", "communication_attempts": "0",
            "notes": "from the frontend template", "policy_type": ("motor", "health")[i % 2],
            "premium_amount": f"{12000 + i}.00", "start_date": start.strftime("%d/%m/%Y"),
            "end_date": end.strftime("%d/%m/%Y"), "sum_assured": "500000", "payment_frequency": "annual",
            "postal_code": "682001", "channel": "branch", "channel_source": "walk-in",
            "last_contact_date": "",
        }
        lines.append([values[name] for name in FRONTEND_HEADER])
    return csv_bytes(FRONTEND_HEADER, lines)


def zip_bomb(path: Path, megabytes: int = 64) -> bytes:
    """A valid xlsx with a sheet part of `megabytes` MB of zeros compressed about 1000:1."""
    package(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as archive, \
            archive.open("xl/worksheets/sheet2.xml", "w") as member:
        zeros = bytes(1 << 20)
        for _ in range(megabytes):
            member.write(zeros)
    return path.read_bytes()


# --- the error report ----------------------------------------------------------------------------------------

def read_report(data: bytes, fmt: str) -> tuple[list[str], dict[int, dict[str, str]]]:
    """(header, {row number: {header: cell as text}}) of an error report, xlsx (openpyxl) or csv."""
    if fmt == "xlsx":
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        try:
            lines = [[_text(v) for v in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]
        finally:
            workbook.close()
    else:
        lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    header, *rows = lines
    return header, {int(float(row[0])): dict(zip(header, row, strict=True)) for row in rows}
