"""The error report of an upload: its refused rows, as written in the file, with the reasons.

Columns: "Row" (the row's number in the uploaded file), the upload's own headers in file order, then
"Errors" (every reason of the row, joined with "; ", a cell's reasons prefixed by its header).

The xlsx report is streamed with openpyxl's write-only mode, so the rows are never all in memory. Each
offending cell is filled red and carries a comment with its reasons. openpyxl supports comments on
`WriteOnlyCell`, but it keeps every comment in memory until the file is saved (about 5 kB each, comment
sheet and VML drawing included), so only the first `MAX_COMMENTS` offending cells get one; the cells after
that are still filled red and their reasons are in the "Errors" column. A sheet holds at most 1,048,576
rows: rows beyond it are left out of the xlsx report (a last line says how many; the CSV has them all).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from openpyxl import Workbook  # type: ignore[import-untyped, unused-ignore]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped, unused-ignore]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped, unused-ignore]
from openpyxl.comments import Comment  # type: ignore[import-untyped, unused-ignore]
from openpyxl.styles import Font, PatternFill  # type: ignore[import-untyped, unused-ignore]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped, unused-ignore]

from domain.uploads.model import RowError

__all__ = ["ERRORS_HEADER", "MAX_COMMENTS", "ROW_HEADER", "ReportFormat", "error_text", "write_error_report"]

ReportFormat = Literal["xlsx", "csv"]
ROW_HEADER, ERRORS_HEADER = "Row", "Errors"
SHEET = "Errors"
MAX_COMMENTS = 10_000  # comments are held in memory until the save: ~50 MB at this cap
EXCEL_MAX_ROWS = 1_048_576
AUTHOR = "Renewals"
MAX_CELL_TEXT = 32_767  # Excel's limit on a cell's text

_BAD_FILL = PatternFill("solid", fgColor="FFC7CE")  # Excel's "bad" light red
_HEADER_FONT = Font(bold=True)


def error_text(reasons: Iterable[tuple[str, str]]) -> str:
    """Every reason of a row, joined with "; "; a reason about a cell is prefixed with its header."""
    return "; ".join(f"{header}: {message}" if header else message for header, message in reasons)


def write_error_report(target: Path, headers: Sequence[str], errors: Iterable[RowError], *,
                       fmt: ReportFormat) -> int:
    """Write the refused rows to `target` as xlsx or csv; returns the number of data rows written."""
    if fmt == "xlsx":
        return _write_xlsx(target, headers, errors)
    if fmt == "csv":
        return _write_csv(target, headers, errors)
    raise ValueError(f"unknown error report format: {fmt!r}")


def _write_csv(target: Path, headers: Sequence[str], errors: Iterable[RowError]) -> int:
    written = 0
    with target.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([ROW_HEADER, *headers, ERRORS_HEADER])
        for error in errors:
            writer.writerow([error.row_number, *(_csv_value(error.cells.get(h)) for h in headers),
                             error_text(error.reasons)])
            written += 1
    return written


def _write_xlsx(target: Path, headers: Sequence[str], errors: Iterable[RowError]) -> int:
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(SHEET)
    # write-only: the view and the column widths must be set before the first row
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 8
    for index, header in enumerate(headers, start=2):
        ws.column_dimensions[get_column_letter(index)].width = min(max(len(header) + 4, 12), 40)
    ws.column_dimensions[get_column_letter(len(headers) + 2)].width = 80

    heading = []
    for title in (ROW_HEADER, *headers, ERRORS_HEADER):
        cell = WriteOnlyCell(ws, value=_text(title))
        cell.data_type = "s"  # a header is text, even one starting with "="
        cell.font = _HEADER_FONT
        heading.append(cell)
    ws.append(heading)

    known = set(headers)
    written = comments = 0
    iterator = iter(errors)
    for error in iterator:
        if written == EXCEL_MAX_ROWS - 2:  # the header, and a last line for the rows left out
            left_out = 1 + sum(1 for _ in iterator)
            ws.append([None, *([None] * len(headers)),
                       f"{left_out} more refused rows are not shown: a sheet holds at most {EXCEL_MAX_ROWS} rows. "
                       "Download the CSV report for all of them."])
            break
        by_header: dict[str, list[str]] = {}
        for header, message in error.reasons:
            if header in known:
                by_header.setdefault(header, []).append(message)
        row: list[Any] = [error.row_number]
        for header in headers:
            value = _xlsx_value(error.cells.get(header))
            messages = by_header.get(header)
            if messages:
                cell = _cell(ws, value)
                cell.fill = _BAD_FILL  # one style per offending cell: each style set costs (hashing)
                if comments < MAX_COMMENTS:
                    cell.comment = _comment(messages)
                    comments += 1
                row.append(cell)
            elif (isinstance(value, str) and value.startswith("=")) or isinstance(value, date | datetime | time):
                row.append(_cell(ws, value))
            else:
                row.append(value)
        reasons = _text(error_text(error.reasons))
        row.append(_cell(ws, reasons) if reasons.startswith("=") else reasons)
        ws.append(row)
        written += 1
    workbook.save(target)
    return written


def _cell(ws: Any, value: Any) -> Any:
    """A write-only cell holding `value` as given: text stays text (never a formula), dates show as dates."""
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value:
        cell.data_type = "s"
    elif isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def _comment(messages: list[str]) -> Any:
    text = _text("\n".join(messages))
    comment = Comment(text[:2000], AUTHOR)
    comment.width = 260
    comment.height = 20 + 16 * sum(1 + len(line) // 40 for line in text[:2000].splitlines())
    return comment


def _xlsx_value(value: object) -> object:
    """A value openpyxl can write: numbers and naive dates as they are, anything else as text."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, date | datetime | time):
        return value if getattr(value, "tzinfo", None) is None else value.isoformat()
    return _text(value if isinstance(value, str) else str(value))


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    return value


def _text(value: str) -> str:
    """Text a cell can hold: without the control characters XML refuses, at most Excel's 32,767 characters."""
    return str(ILLEGAL_CHARACTERS_RE.sub("", value))[:MAX_CELL_TEXT]
