"""The CSV, XLSX and PDF writers of case-list exports, read back with the csv module, openpyxl and the PDF's own
objects (page tree, decompressed content streams)."""

from __future__ import annotations

import csv
import io
import re
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook  # type: ignore[import-untyped, unused-ignore]

from adapters.exports.csv_export import CsvCaseListWriter
from adapters.exports.pdf_export import PdfCaseListWriter
from adapters.exports.xlsx_export import XlsxCaseListWriter
from adapters.system.clock import FixedClock
from application.policies.case_export import COLUMNS, CaseExportService, ExportMeta, ExportRow, safe_text
from application.policies.ports import CaseFilters
from application.shared.visibility import EVERYTHING, Visibility
from domain.shared.errors import ValidationFailed

IST = timezone(timedelta(hours=5, minutes=30), "IST")
META = ExportMeta(title="Renewal cases", generated_at=datetime(2026, 11, 28, 14, 30, tzinfo=IST),
                  filters="status: new; scope: own cases", max_rows=None)


def row(n: int, **overrides: object) -> ExportRow:
    values: dict[str, object] = {
        "case_number": f"RC-2026-{n:06d}", "policy_number": f"POL-2026-{n:06d}", "customer_name": "Asha Rao",
        "status": "contacted", "priority": "high", "assignee": "Meena Iyer", "renewal_date": date(2026, 12, 8),
        "renewal_amount": Decimal("12500.50"), "currency": "INR", "payment_status": "pending",
        "communication_attempts": 2, "last_contact_date": datetime(2026, 11, 27, 16, 5, tzinfo=IST)}
    values.update(overrides)
    return ExportRow(**values)  # type: ignore[arg-type]


async def batches_of(rows: list[ExportRow], size: int = 2) -> AsyncIterator[list[ExportRow]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


async def collect(chunks: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in chunks]


HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1)", "\tTAB", "plain"]


async def test_csv_is_streamed_one_piece_per_batch_and_reads_back() -> None:
    rows = [row(1), row(2, assignee=None, last_contact_date=None), row(3, customer_name="Zoë Ñúñez, \"Jr\"")]
    chunks = await collect(CsvCaseListWriter().write(batches_of(rows), META))
    assert len(chunks) == 3  # the heading, then one piece per batch of two
    assert chunks[0].startswith("\ufeff".encode())
    parsed = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert parsed[0] == list(COLUMNS)
    assert parsed[1] == ["RC-2026-000001", "POL-2026-000001", "Asha Rao", "contacted", "high", "Meena Iyer",
                         "2026-12-08", "12500.50", "INR", "pending", "2", "2026-11-27 16:05"]
    assert parsed[2][5] == "" and parsed[2][11] == ""
    assert parsed[3][2] == "Zoë Ñúñez, \"Jr\""


async def test_csv_cells_that_start_like_formulas_get_a_quote() -> None:
    rows = [row(n, customer_name=name, assignee=name) for n, name in enumerate(HOSTILE)]
    parsed = list(csv.reader(io.StringIO(b"".join(await collect(
        CsvCaseListWriter().write(batches_of(rows), META))).decode("utf-8-sig"))))
    assert [r[2] for r in parsed[1:]] == ["'" + v for v in HOSTILE[:-1]] + ["plain"]
    assert [r[5] for r in parsed[1:]] == [r[2] for r in parsed[1:]]
    assert all(not r[7].startswith("'") for r in parsed[1:])  # numbers are written as numbers


@given(st.text(max_size=20))
def test_safe_text_never_leaves_a_formula_start(text: str) -> None:
    safe = safe_text(text)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert safe in (text, "'" + text)


async def test_xlsx_has_typed_cells_text_never_formulas_and_an_about_sheet() -> None:
    rows = [row(1), *(row(n + 2, customer_name=v) for n, v in enumerate(HOSTILE))]
    data = b"".join(await collect(XlsxCaseListWriter().write(batches_of(rows, 3), META)))
    book = load_workbook(io.BytesIO(data))
    sheet = book["Cases"]
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == list(COLUMNS) and len(values) == 1 + len(rows)
    first = values[1]
    assert first[:6] == ("RC-2026-000001", "POL-2026-000001", "Asha Rao", "contacted", "high", "Meena Iyer")
    assert first[6] == datetime(2026, 12, 8) and first[7] == 12500.5 and first[10] == 2
    assert first[11] == datetime(2026, 11, 27, 16, 5)  # business-zone wall time (Excel has no zones)
    cells = list(sheet.iter_rows(min_row=3))
    assert [c[2].value for c in cells] == HOSTILE
    assert {c[2].data_type for c in cells} == {"s"}
    assert sheet["H2"].number_format == "#,##0.00"
    about = dict(book["About"].iter_rows(values_only=True))
    assert about["Rows"] == str(len(rows)) and about["Filters"] == META.filters and "Note" not in about


async def test_xlsx_over_its_cap_says_so() -> None:
    data = b"".join(await collect(XlsxCaseListWriter(max_rows=3).write(batches_of([row(n) for n in range(4)]),
                                                                       META)))
    book = load_workbook(io.BytesIO(data))
    assert book["Cases"].max_row == 4
    about = dict(book["About"].iter_rows(values_only=True))
    assert about["Rows"] == "3" and "Only the first 3 cases" in about["Note"]


def pdf_pages(data: bytes) -> int:
    """The page tree's count, checked against the page objects."""
    trees = [d for d in re.findall(rb"<<(.*?)>>", data, re.S) if b"/Type /Pages" in d]
    assert len(trees) == 1, trees
    count = int(re.findall(rb"/Count (\d+)", trees[0])[0])
    assert len(re.findall(rb"/Type /Page(?!s)", data)) == count
    return count


def pdf_texts(data: bytes) -> list[str]:
    """The decompressed content streams (one per page), as Latin-1 text."""
    texts = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            texts.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            continue
    # each text object's strings joined (fpdf2 writes the page-count alias as a string of its own)
    return ["\n".join("".join(re.findall(r"\((.*?)\) Tj", block)) for block in re.findall(r"BT(.*?)ET", t, re.S))
            for t in texts if "BT" in t]


async def test_pdf_one_page_with_header_and_page_number() -> None:
    data = b"".join(await collect(PdfCaseListWriter().write(batches_of([row(1), row(2)]), META)))
    assert data.startswith(b"%PDF-") and pdf_pages(data) == 1
    (page,) = pdf_texts(data)
    for text in ("Renewal cases", "Case number", "Last contact", "RC-2026-000002", "2 cases", "Page 1/1",
                 "status: new; scope: own cases", "2026-11-28 14:30 IST"):
        assert text in page, text


async def test_pdf_repeats_the_heading_on_every_page_and_numbers_them() -> None:
    rows = [row(n) for n in range(120)]
    data = b"".join(await collect(PdfCaseListWriter().write(batches_of(rows, 50), META)))
    pages = pdf_texts(data)
    count = pdf_pages(data)
    assert count > 2 and len(pages) == count
    for number, page in enumerate(pages, start=1):
        assert "Case number" in page and "Renewal cases" in page
        assert f"Page {number}/{count}" in page
    assert sum(page.count("RC-2026-") for page in pages) == 120


async def test_pdf_over_its_cap_says_so_in_the_header_and_non_latin_text_prints() -> None:
    rows = [row(n, customer_name="आशा राव") for n in range(6)]
    data = b"".join(await collect(PdfCaseListWriter(max_rows=5).write(batches_of(rows), META)))
    pages = pdf_texts(data)
    assert "first 5 cases only: the PDF is limited to 5 rows" in pages[0]
    assert sum(page.count("RC-2026-") for page in pages) == 5


async def test_pdf_without_rows_says_so() -> None:
    data = b"".join(await collect(PdfCaseListWriter().write(batches_of([]), META)))
    assert pdf_pages(data) == 1 and "No cases match these filters." in pdf_texts(data)[0]


class Rows:
    def __init__(self, rows: list[ExportRow]) -> None:
        self.rows = rows
        self.asked: list[tuple[CaseFilters, Visibility, int | None, int]] = []

    async def batches(self, filters: CaseFilters, visibility: Visibility, *, limit: int | None,
                      batch_size: int) -> AsyncIterator[list[ExportRow]]:
        self.asked.append((filters, visibility, limit, batch_size))
        chosen = self.rows if limit is None else self.rows[:limit]
        for start in range(0, len(chosen), batch_size):
            yield chosen[start:start + batch_size]


def service(rows: Rows) -> CaseExportService:
    writers = {"csv": CsvCaseListWriter(), "xlsx": XlsxCaseListWriter(), "pdf": PdfCaseListWriter(max_rows=2)}
    return CaseExportService(rows=rows, writers=writers, clock=FixedClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC)),
                             timezone=IST, batch_size=2)


async def test_service_names_the_file_asks_for_one_more_than_the_cap_and_uses_the_business_zone() -> None:
    rows = Rows([row(1, last_contact_date=datetime(2026, 11, 27, 10, 35, tzinfo=UTC)), row(2), row(3)])
    filters = CaseFilters(status=("new", "contacted"))
    own = Visibility(reach="own", user_id=4)
    export = service(rows).export("csv", filters, own)
    assert (export.filename, export.media_type) == ("renewal-cases-20261128-1430.csv", "text/csv; charset=utf-8")
    assert rows.asked == []  # nothing is read before the response streams
    parsed = list(csv.reader(io.StringIO(b"".join(await collect(export.chunks)).decode("utf-8-sig"))))
    assert len(parsed) == 4 and parsed[1][11] == "2026-11-27 16:05"
    assert rows.asked == [(filters, own, None, 2)]
    pdf = service(rows).export("pdf", filters, own)
    assert pdf.filename.endswith(".pdf") and pdf.media_type == "application/pdf"
    texts = pdf_texts(b"".join(await collect(pdf.chunks)))
    assert "status: new, contacted; scope: own cases" in texts[0] and "first 2 cases only" in texts[0]


def test_service_refuses_an_unknown_format_on_the_format_field() -> None:
    try:
        service(Rows([])).export("docx", CaseFilters(), EVERYTHING)
    except ValidationFailed as error:
        assert [d.field for d in error.details] == ["format"]
        assert "csv, xlsx, pdf" in error.details[0].message
    else:
        raise AssertionError("docx was accepted")

