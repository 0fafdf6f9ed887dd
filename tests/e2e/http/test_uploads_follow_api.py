"""Following an upload over HTTP: its status, the history, the original file, the template, and cancelling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from adapters.system.clock import FixedClock
from entrypoints.container import AppContainer
from tests.upload_books import XLSX, book_bytes, count, policy_book, post_book, upload_container

Client = httpx.AsyncClient
REQUIRED = ["first_name", "last_name", "policy_type", "premium_amount", "start_date", "end_date"]


@pytest.fixture
def upload_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings for the test's container; parametrize indirectly to change them."""
    env: dict[str, str] = getattr(request, "param", {})
    return env


@pytest.fixture
async def sql_container(migrated_database: str, clock: FixedClock, tmp_path: Path,
                        upload_env: dict[str, str]) -> AsyncIterator[AppContainer]:
    async with upload_container(tmp_path, clock, **upload_env) as container:
        yield container


async def upload(client: Client, data: bytes, filename: str, **kwargs: Any) -> tuple[str, int]:
    response = await post_book(client, data, filename, **kwargs)
    assert response.status_code == 202, response.text
    upload_id: str = response.json()["data"]["uploadId"]
    return upload_id, int(upload_id.removeprefix("upload-"))


async def test_the_status_shows_the_counts_and_the_processing_time(client: Client,
                                                                   sql_container: AppContainer) -> None:
    book = policy_book(300)
    response = await post_book(client, book_bytes(book, "csv"), "C:\\fakepath\\november.csv",
                               description="November renewals")
    assert response.status_code == 202
    assert response.json()["data"] == {
        "uploadId": "upload-1", "filename": "november.csv", "status": "processing", "totalRecords": 300,
        "estimatedProcessingTime": "less than a minute", "warnings": []}
    assert await count(sql_container, "SELECT count(*) FROM outbox WHERE job_name = 'uploads.ingest' "
                                      "AND args = '{\"upload_id\": 1}'::jsonb") == 1
    queued = (await client.get("/api/upload/status/upload-1")).json()["data"]
    assert (queued["status"], queued["processedRecords"], queued["successfulRecords"]) == ("processing", 0, 0)
    assert queued["processingTime"] is None and queued["description"] == "November renewals"

    assert await sql_container.uploads.ingestion().ingest(1) == "completed"
    for ident in ("upload-1", "1"):
        done = (await client.get(f"/api/upload/status/{ident}")).json()["data"]
        assert done["status"] == "completed"
        assert (done["totalRecords"], done["processedRecords"]) == (300, 300)
        assert (done["successfulRecords"], done["failedRecords"]) == (book.good, len(book.bad))
        assert done["processingTime"] == "0s"  # the test clock stands still
        assert done["processingStartedAt"] is not None and done["processingCompletedAt"] is not None
        assert done["downloadUrl"] == "/api/upload/download/upload-1"
        assert done["errorReportUrl"] == "/api/upload/upload-1/errors"
        assert (done["fileType"], done["originalFilename"]) == ("csv", "november.csv")
    missing = await client.get("/api/upload/status/upload-99")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert (await client.get("/api/upload/status/nonsense")).status_code == 404


async def test_history_paginates_and_filters_by_status(client: Client, sql_container: AppContainer) -> None:
    first, n1 = await upload(client, book_bytes(policy_book(20, prefix="A"), "csv"), "a.csv")
    second, n2 = await upload(client, book_bytes(policy_book(20, prefix="B"), "xlsx"), "b.xlsx")
    third, _ = await upload(client, book_bytes(policy_book(20, prefix="C"), "csv"), "c.csv")
    for number in (n1, n2):
        assert await sql_container.uploads.ingestion().ingest(number) == "completed"

    page1 = (await client.get("/api/upload/history", params={"limit": 2})).json()["data"]
    assert page1["pagination"] == {"page": 1, "limit": 2, "total": 3, "totalPages": 2, "totalIsEstimate": False}
    page2 = (await client.get("/api/upload/history", params={"limit": 2, "page": 2})).json()["data"]
    ids = [u["uploadId"] for u in page1["uploads"] + page2["uploads"]]
    assert sorted(ids) == sorted([first, second, third])
    assert ids[0] == third  # newest first

    completed = (await client.get("/api/upload/history", params={"status": "completed"})).json()["data"]
    assert {u["uploadId"] for u in completed["uploads"]} == {first, second}
    assert completed["pagination"]["total"] == 2
    assert all(u["status"] == "completed" and u["successfulRecords"] == 20 for u in completed["uploads"])
    processing = (await client.get("/api/upload/history", params={"status": "processing"})).json()["data"]
    assert [u["uploadId"] for u in processing["uploads"]] == [third]
    both = (await client.get("/api/upload/history", params={"status": "processing,completed"})).json()["data"]
    assert both["pagination"]["total"] == 3
    bad = await client.get("/api/upload/history", params={"status": "exploded"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "status"


async def test_download_returns_the_original_bytes(client: Client, sql_container: AppContainer) -> None:
    csv_data = book_bytes(policy_book(30), "csv")
    xlsx_data = book_bytes(policy_book(30, prefix="X"), "xlsx")
    csv_id, _ = await upload(client, csv_data, "book.csv")
    xlsx_id, _ = await upload(client, xlsx_data, "Renewals Nov.xlsx")
    got = await client.get(f"/api/upload/download/{csv_id}")
    assert got.status_code == 200 and got.content == csv_data
    assert got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"] == 'attachment; filename="book.csv"'
    got = await client.get(f"/api/upload/download/{xlsx_id}")
    assert got.status_code == 200 and got.content == xlsx_data
    assert got.headers["content-type"] == XLSX
    assert (await client.get("/api/upload/download/upload-99")).status_code == 404


async def test_the_template_downloads_as_xlsx_and_csv(client: Client) -> None:
    xlsx = await client.get("/api/upload/template")
    assert xlsx.status_code == 200 and xlsx.headers["content-type"] == XLSX
    assert "policy_upload_template.xlsx" in xlsx.headers["content-disposition"]
    book = openpyxl.load_workbook(BytesIO(xlsx.content))
    sheet = book["Policies"]
    header = [cell.value for cell in sheet[1]]
    assert set(REQUIRED) <= set(header) and {"email", "phone", "policy_number"} <= set(header)
    assert book.sheetnames[0] == "Policies"

    as_csv = await client.get("/api/upload/template", params={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    first_line = as_csv.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert first_line == header
    assert (await client.get("/api/upload/template", params={"format": "pdf"})).status_code in (400, 422)


@pytest.mark.parametrize("upload_env", [{"UPLOAD_BATCH_ROWS": "100"}], indirect=True)
async def test_cancel_stops_at_the_next_batch_and_keeps_what_was_committed(
        client: Client, sql_container: AppContainer) -> None:
    book = policy_book(1_000, bad=False)
    upload_id, number = await upload(client, book_bytes(book, "csv"), "big.csv")
    cancelled = await client.post(f"/api/upload/{upload_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["data"]["status"] == "processing"  # it stops when the worker reaches a batch end

    assert await sql_container.uploads.ingestion().ingest(number) == "cancelled"
    status = (await client.get(f"/api/upload/status/{upload_id}")).json()["data"]
    assert status["status"] == "cancelled"
    assert (status["processedRecords"], status["successfulRecords"], status["failedRecords"]) == (100, 100, 0)
    assert status["processedRecords"] < status["totalRecords"] == 1_000
    assert await count(sql_container, "SELECT count(*) FROM policies") == 100  # the first batch stays
    assert await count(sql_container, "SELECT count(*) FROM renewal_cases") == 99  # row 101 is a lapsed policy

    again = await client.post(f"/api/upload/{upload_id}/cancel")
    assert again.status_code == 409 and again.json()["error"]["currentStatus"] == "cancelled"
    # running the job again (a redelivery) changes nothing
    assert await sql_container.uploads.ingestion().ingest(number) == "cancelled"
    assert await count(sql_container, "SELECT count(*) FROM policies") == 100


async def test_cancel_of_a_completed_upload_is_a_conflict(client: Client, sql_container: AppContainer) -> None:
    upload_id, number = await upload(client, book_bytes(policy_book(10), "csv"), "small.csv")
    assert await sql_container.uploads.ingestion().ingest(number) == "completed"
    response = await client.post(f"/api/upload/{upload_id}/cancel")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_transition" and error["currentStatus"] == "completed"
    assert (await client.get(f"/api/upload/status/{upload_id}")).json()["data"]["status"] == "completed"
    assert (await client.post("/api/upload/upload-99/cancel")).status_code == 404
