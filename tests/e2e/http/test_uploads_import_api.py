"""Whole books through POST /api/upload/file and the ingestion job: counts, policies, cases, the error report,
uploading the same book again, and the frontend's own 34-column template."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from adapters.system.clock import FixedClock
from entrypoints.container import AppContainer
from tests.upload_books import (
    BAD_KINDS,
    Book,
    book_bytes,
    count,
    frontend_book_csv,
    policy_book,
    post_book,
    read_report,
    upload_container,
)

Client = httpx.AsyncClient


@pytest.fixture
async def sql_container(migrated_database: str, clock: FixedClock, tmp_path: Path) -> AsyncIterator[AppContainer]:
    async with upload_container(tmp_path, clock) as container:
        yield container


async def upload_and_ingest(client: Client, container: AppContainer, data: bytes, filename: str, *,
                            force: bool = False) -> dict[str, Any]:
    response = await post_book(client, data, filename, force=force)
    assert response.status_code == 202, response.text
    upload_id = response.json()["data"]["uploadId"]
    number = int(upload_id.removeprefix("upload-"))
    assert await count(container, "SELECT count(*) FROM outbox WHERE job_name = 'uploads.ingest' "
                                  "AND (args->>'upload_id')::int = :n", n=number) == 1
    assert await container.uploads.ingestion().ingest(number) == "completed"
    status: dict[str, Any] = (await client.get(f"/api/upload/status/{upload_id}")).json()["data"]
    return status


async def premiums(container: AppContainer) -> dict[str, Decimal]:
    async with container.adapters.engine().connect() as conn:
        rows = (await conn.execute(text("SELECT policy_number, premium_amount FROM policies"))).all()
    return {number: amount for number, amount in rows}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_a_10000_row_book_imports_its_good_rows_and_reports_every_bad_one(
        client: Client, sql_container: AppContainer, kind: str) -> None:
    book = policy_book(10_000)
    assert len(book.bad) == 700 and book.good == 9_300
    status = await upload_and_ingest(client, sql_container, book_bytes(book, kind), f"book.{kind}")
    assert status["status"] == "completed"
    assert (status["successfulRecords"], status["failedRecords"], status["totalRecords"]) == (9_300, 700, 10_000)

    # exactly the good rows' policies, with their premiums; one renewal case per active one, in this batch
    listed = (await client.get("/api/policies", params={"limit": 1})).json()["data"]["pagination"]
    assert listed["total"] == 9_300 and listed["totalIsEstimate"] is False
    assert await premiums(sql_container) == book.premiums
    batch = await count(sql_container, "SELECT id FROM upload_batches WHERE upload_id = :n",
                        n=int(status["uploadId"].removeprefix("upload-")))
    assert len(book.active) == 9_200  # every 100th good row is a lapsed policy
    assert await count(sql_container, "SELECT count(*) FROM renewal_cases") == 9_200
    assert await count(sql_container, "SELECT count(*) FROM renewal_cases WHERE batch_id = :b", b=batch) == 9_200
    assert await count(sql_container, "SELECT count(DISTINCT rc.policy_id) FROM renewal_cases rc JOIN policies p "
                                      "ON p.id = rc.policy_id WHERE p.status = 'active'") == 9_200
    cases = (await client.get("/api/cases", params={"batch": str(batch), "limit": 1})).json()["data"]
    assert cases["pagination"]["total"] == 9_200

    # the error report: every bad row, its original cells, and reasons naming the offending column
    report = await client.get(f"/api/upload/{status['uploadId']}/errors")
    assert report.status_code == 200
    assert report.headers["content-disposition"].endswith('book-errors.xlsx"')
    header, by_row = read_report(report.content, "xlsx")
    assert header == ["Row", *book.header, "Errors"]
    assert set(by_row) == set(book.bad)
    for row_number, bad_kind in book.bad.items():
        errors = by_row[row_number]["Errors"]
        assert errors.startswith(f"{BAD_KINDS[bad_kind]}: "), (row_number, bad_kind, errors)
        assert by_row[row_number]["first_name"] == f"First{row_number - 2}"
    first = {kind: min(n for n, k in book.bad.items() if k == kind) for kind in BAD_KINDS}
    assert by_row[first["duplicate policy number"]]["Errors"] == \
        "policy_number: duplicates the policy number of an earlier row"
    assert by_row[first["bad phone"]]["phone"] == "12345"
    assert "not a valid phone number" in by_row[first["bad phone"]]["Errors"]
    assert by_row[first["missing last name"]]["Errors"] == "last_name: is required"
    assert by_row[first["end before start"]]["Errors"] == "end_date: must be after start_date"

    as_csv = await client.get(f"/api/upload/{status['uploadId']}/errors", params={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    csv_header, csv_rows = read_report(as_csv.content, "csv")
    assert csv_header == header
    assert {n: r["Errors"] for n, r in csv_rows.items()} == {n: r["Errors"] for n, r in by_row.items()}
    assert {n: r["email"] for n, r in csv_rows.items()} == {n: r["email"] for n, r in by_row.items()}


def _with_premiums_changed(book: Book, how_many: int) -> tuple[Book, dict[str, Decimal]]:
    changed: dict[str, Decimal] = {}
    c = book.column
    rows = [list(row) for row in book.rows]
    for row in rows:
        number = str(row[c("policy_number")])
        if number in book.premiums and number not in changed and len(changed) < how_many:
            changed[number] = book.premiums[number] + Decimal("1000.25")
            row[c("premium_amount")] = changed[number]
    return Book(header=book.header, rows=rows, bad=book.bad, premiums={**book.premiums, **changed},
                active=book.active), changed


async def test_the_same_book_again_is_a_409_and_a_forced_changed_one_updates_in_place(
        client: Client, sql_container: AppContainer) -> None:
    book = policy_book(400)
    data = book_bytes(book, "csv")
    first = await upload_and_ingest(client, sql_container, data, "book.csv")
    assert first["successfulRecords"] == book.good
    before = {table: await count(sql_container, f"SELECT count(*) FROM {table}")
              for table in ("customers", "policies", "renewal_cases")}
    assert before == {"customers": book.good, "policies": book.good, "renewal_cases": len(book.active)}

    again = await post_book(client, data, "renamed.csv")
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "duplicate_upload" and error["uploadId"] == first["uploadId"]
    assert "force=true" in error["message"]
    assert await count(sql_container, "SELECT count(*) FROM file_uploads") == 1

    changed_book, changed = _with_premiums_changed(book, 10)
    changed_data = book_bytes(changed_book, "csv")
    assert len(changed) == 10 and changed_data != data
    forced = await upload_and_ingest(client, sql_container, changed_data, "book.csv", force=True)
    assert forced["uploadId"] != first["uploadId"]
    assert (forced["successfulRecords"], forced["failedRecords"]) == (book.good, len(book.bad))
    now = await premiums(sql_container)
    assert now == changed_book.premiums
    assert sum(now[n] != book.premiums[n] for n in book.premiums) == 10
    assert {n: now[n] for n in changed} == changed
    after = {table: await count(sql_container, f"SELECT count(*) FROM {table}") for table in before}
    assert after == before  # no new customer, policy or case

    # the very same bytes with force: accepted as a new upload, and nothing changes
    forced_same = await upload_and_ingest(client, sql_container, changed_data, "book.csv", force=True)
    assert forced_same["successfulRecords"] == book.good
    assert await premiums(sql_container) == changed_book.premiums
    assert {table: await count(sql_container, f"SELECT count(*) FROM {table}") for table in before} == before


async def test_the_frontends_34_column_template_imports_and_reimports_without_duplicates(
        client: Client, sql_container: AppContainer) -> None:
    data = frontend_book_csv(20)
    assert data.split(b"\r\n", 1)[0].count(b",") == 33
    first = await upload_and_ingest(client, sql_container, data, "PolicyDataFormat.csv")
    assert (first["successfulRecords"], first["failedRecords"], first["errorReportUrl"]) == (20, 0, None)
    assert first["warnings"] == []  # the repeated agent columns are known and not stored: nothing to say
    numbers = set(await premiums(sql_container))
    assert len(numbers) == 20 and all(n.startswith("POL-2026-") for n in numbers)
    assert await count(sql_container, "SELECT count(*) FROM customers") == 20
    assert await count(sql_container, "SELECT count(*) FROM renewal_cases WHERE priority = 'high'") == 20
    assert await count(sql_container, "SELECT count(*) FROM customers WHERE communication_preferences "
                                      "= '{\"email\": true, \"sms\": true, \"whatsapp\": false}'::jsonb") == 20

    assert (await post_book(client, data, "PolicyDataFormat.csv")).status_code == 409
    again = await upload_and_ingest(client, sql_container, data, "PolicyDataFormat.csv", force=True)
    assert (again["successfulRecords"], again["failedRecords"]) == (20, 0)
    assert set(await premiums(sql_container)) == numbers  # derived policy numbers are stable
    for table in ("customers", "policies", "renewal_cases"):
        assert await count(sql_container, f"SELECT count(*) FROM {table}") == 20
