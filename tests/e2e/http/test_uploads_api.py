"""POST /api/upload/file against a hostile corpus generated here, and the odd but honest books it accepts.

A refused file gets its status, a stable code and a sentence, and leaves nothing behind: no upload row, no
batch, no ingestion job, no kept file, no spooled copy. An accepted file gets its ingestion job in the outbox;
the tests run that job directly (`uploads.ingestion().ingest`) instead of through the worker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from adapters.system.clock import FixedClock
from entrypoints.container import AppContainer
from tests.upload_books import (
    BILLION_LAUGHS,
    count,
    csv_bytes,
    nothing_written,
    package,
    post_book,
    read_report,
    upload_container,
    xlsx_bytes,
    zip_bomb,
)

Client = httpx.AsyncClient
GOOD_ROW = ["Asha", "Rao", "asha@example.in", "motor", "12500.00", "2026-01-01", "2026-12-31"]
GOOD_HEADER = ["first_name", "last_name", "email", "policy_type", "premium_amount", "start_date", "end_date"]


@pytest.fixture
async def sql_container(migrated_database: str, clock: FixedClock, tmp_path: Path) -> AsyncIterator[AppContainer]:
    async with upload_container(tmp_path, clock) as container:
        yield container


async def accepted(client: Client, container: AppContainer, data: bytes, filename: str) -> dict[str, Any]:
    """POST the book (202), check its ingestion job is queued, run it, and answer its status."""
    response = await post_book(client, data, filename)
    assert response.status_code == 202, response.text
    upload_id = response.json()["data"]["uploadId"]
    number = int(upload_id.removeprefix("upload-"))
    assert await count(container, "SELECT count(*) FROM outbox WHERE job_name = 'uploads.ingest' "
                                  "AND (args->>'upload_id')::int = :n", n=number) == 1
    await container.uploads.ingestion().ingest(number)
    status = await client.get(f"/api/upload/status/{upload_id}")
    assert status.status_code == 200
    found: dict[str, Any] = status.json()["data"]
    found["accepted"] = response.json()["data"]  # the POST's answer, for its warnings
    return found


# --- refused at the POST -------------------------------------------------------------------------------------

def _bomb(tmp: Path) -> tuple[bytes, str]:
    data = zip_bomb(tmp / "bomb.xlsx", megabytes=64)
    assert len(data) * 900 < 64 * 2**20  # about 1000:1
    return data, "book.xlsx"


def _billion_laughs(tmp: Path) -> tuple[bytes, str]:
    return package(tmp / "lol.xlsx", sheet=BILLION_LAUGHS).read_bytes(), "book.xlsx"


def _xlsm(tmp: Path) -> tuple[bytes, str]:
    return xlsx_bytes(GOOD_HEADER, [GOOD_ROW]), "book.xlsm"


def _program(tmp: Path) -> tuple[bytes, str]:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(48) + b"This program...", "a.xlsx"


def _empty(tmp: Path) -> tuple[bytes, str]:
    return b"", "book.csv"


def _header_only_csv(tmp: Path) -> tuple[bytes, str]:
    return csv_bytes(GOOD_HEADER, []), "book.csv"


def _header_only_xlsx(tmp: Path) -> tuple[bytes, str]:
    return xlsx_bytes(GOOD_HEADER, []), "book.xlsx"


def _over_the_file_limit(tmp: Path) -> tuple[bytes, str]:
    return b"a" * (50 * 2**20 + 2**19), "book.csv"  # 50.5 MB: under the body limit, over the file limit


def _sixty_megabytes(tmp: Path) -> tuple[bytes, str]:
    return bytes(60 * 2**20), "book.xlsx"


# case -> (builder, status, code, words of the message)
REFUSED: dict[str, tuple[Callable[[Path], tuple[bytes, str]], int, str, tuple[str, ...]]] = {
    "zip bomb": (_bomb, 422, "unsafe_file", ("zip bomb", "100:1")),
    "billion laughs": (_billion_laughs, 422, "unsafe_file", ("sheet1.xml", "DOCTYPE")),
    "xlsm": (_xlsm, 422, "unsafe_file", (".xlsm", "macro")),
    "renamed program": (_program, 415, "unsupported_media_type", ("program",)),
    "empty": (_empty, 422, "unreadable_file", ("empty",)),
    "header only csv": (_header_only_csv, 422, "unreadable_file", ("no rows",)),
    "header only xlsx": (_header_only_xlsx, 422, "unreadable_file", ("no rows",)),
    "over 50 MB": (_over_the_file_limit, 413, "payload_too_large", ("50 MB",)),
    "60 MB": (_sixty_megabytes, 413, "payload_too_large", ("too large",)),
}


@pytest.mark.parametrize("case", list(REFUSED))
async def test_a_hostile_or_unusable_file_is_refused_and_nothing_is_written(
        client: Client, sql_container: AppContainer, tmp_path: Path, case: str) -> None:
    build, status, code, words = REFUSED[case]
    (tmp_path / "build").mkdir()
    data, filename = build(tmp_path / "build")
    response = await post_book(client, data, filename)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    for word in words:
        assert word.lower() in error["message"].lower()
    await nothing_written(sql_container, tmp_path)


async def test_missing_required_columns_are_all_named(client: Client, sql_container: AppContainer,
                                                      tmp_path: Path) -> None:
    response = await post_book(client, csv_bytes(["First Name", "email", "Premium", "city"],
                                                 [["Asha", "asha@example.in", "100", "Pune"]]), "book.csv")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert {d["field"] for d in error["details"]} == {"last_name", "policy_type", "start_date", "end_date"}
    assert all(d["message"] == "is a required column" for d in error["details"])
    await nothing_written(sql_container, tmp_path)


async def test_a_book_with_no_recognisable_column_is_refused(client: Client, sql_container: AppContainer,
                                                             tmp_path: Path) -> None:
    response = await post_book(client, csv_bytes(["colour", "size", "weight"], [["red", "L", "3"]]), "book.csv")
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [{"field": "header", "message": "no recognisable columns"}]
    await nothing_written(sql_container, tmp_path)


# --- accepted, with a clear account of what was not imported ------------------------------------------------

async def test_a_book_without_one_valid_row_is_accepted_and_reports_every_row(
        client: Client, sql_container: AppContainer) -> None:
    rows = [["Asha", "Rao", "asha@example.in", "motor", "-5", "2026-01-01", "2026-12-31"],
            ["", "Rao", "rao@example.in", "motor", "100", "2026-01-01", "2026-12-31"],
            ["Ravi", "Kumar", "", "motor", "100", "2026-01-01", "2026-12-31"],
            ["Sita", "Devi", "sita@example.in", "boat", "100", "2026-01-01", "2026-12-31"],
            ["Gita", "Das", "gita@example.in", "life", "100", "2026-05-01", "2026-01-01"]]
    status = await accepted(client, sql_container, csv_bytes(GOOD_HEADER, rows), "nothing-good.csv")
    assert (status["status"], status["successfulRecords"], status["failedRecords"]) == ("completed", 0, 5)
    assert status["errorReportUrl"] == f"/api/upload/{status['uploadId']}/errors"
    assert await count(sql_container, "SELECT count(*) FROM policies") == 0
    report = await client.get(status["errorReportUrl"], params={"format": "csv"})
    assert report.status_code == 200
    header, by_row = read_report(report.content, "csv")
    assert header == ["Row", *GOOD_HEADER, "Errors"]
    assert sorted(by_row) == [2, 3, 4, 5, 6]
    expected = {2: "premium_amount", 3: "first_name", 4: "needs an email or a phone number", 5: "policy_type",
                6: "end_date"}
    for row, words in expected.items():
        assert words in by_row[row]["Errors"], by_row[row]


async def test_merged_cells_and_formulas_without_values_are_read_as_empty(
        client: Client, sql_container: AppContainer) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Policies"
    sheet.append([*GOOD_HEADER, "notes", "city"])
    sheet.append(["Asha", "Rao", "asha@example.in", "motor", 12500, date(2026, 1, 1), date(2026, 12, 31),
                  "merged across two columns", None])
    sheet.append(["Ravi", "Kumar", "ravi@example.in", "health", 9000, date(2026, 2, 1), date(2027, 1, 31)])
    sheet.append(["Sita", "Devi", "sita@example.in", None, 9000, date(2026, 2, 1), date(2027, 1, 31)])
    sheet.append(["Gita", "Das", "gita@example.in", "life", "=1000*12", date(2026, 3, 1), date(2027, 2, 28)])
    sheet.append(["Hari", "Nair", "hari@example.in", "home", 7000, "=DATE(2026,4,1)", date(2027, 3, 31)])
    sheet.merge_cells("H2:I2")
    sheet.merge_cells("D3:D4")  # Sita's policy type is the merged range's hidden cell: empty
    out = BytesIO()
    book.save(out)

    status = await accepted(client, sql_container, out.getvalue(), "merged.xlsx")
    assert (status["status"], status["successfulRecords"], status["failedRecords"]) == ("completed", 2, 3)
    report = await client.get(f"/api/upload/{status['uploadId']}/errors")
    _, by_row = read_report(report.content, "xlsx")
    assert sorted(by_row) == [4, 5, 6]
    assert by_row[4]["Errors"] == "policy_type: is required"
    assert by_row[5]["Errors"] == "premium_amount: is required"
    assert by_row[6]["Errors"] == "start_date: is required"
    assert await count(sql_container, "SELECT count(*) FROM policies") == 2


async def test_several_sheets_are_accepted_with_a_warning_naming_the_sheet_read(
        client: Client, sql_container: AppContainer) -> None:
    book = openpyxl.Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "Cover"
    data = book.create_sheet("Policies")
    data.append(GOOD_HEADER)
    for i in range(3):
        data.append([f"Asha{i}", "Rao", f"asha{i}@example.in", "motor", 12500 + i, date(2026, 1, 1),
                     date(2026, 12, 31)])
    book.create_sheet("Lookup").append(["motor", "health"])
    out = BytesIO()
    book.save(out)

    status = await accepted(client, sql_container, out.getvalue(), "sheets.xlsx")
    warnings = status["accepted"]["warnings"]
    assert len(warnings) == 1 and '"Policies"' in warnings[0] and "3 visible sheets" in warnings[0]
    assert status["warnings"] == warnings
    assert (status["status"], status["successfulRecords"], status["failedRecords"]) == ("completed", 3, 0)
