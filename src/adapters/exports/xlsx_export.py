"""The XLSX writer: openpyxl in write-only mode (rows go to disk as they come), saved to an anonymous temporary
file that is then streamed. Text never becomes a formula; dates and money are typed cells. A second sheet, About,
says when the file was made, with which filters, and whether rows were cut."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook  # type: ignore[import-untyped, unused-ignore]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped, unused-ignore]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped, unused-ignore]
from openpyxl.styles import Font  # type: ignore[import-untyped, unused-ignore]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped, unused-ignore]

from application.policies.case_export import COLUMNS, Cell, ExportMeta, ExportRow

__all__ = ["EXCEL_MAX_ROWS", "XlsxCaseListWriter"]

EXCEL_MAX_ROWS = 1_048_576
_WIDTHS = (16, 18, 26, 16, 10, 22, 13, 14, 9, 15, 9, 17)
_BOLD = Font(bold=True)
_CHUNK = 1 << 16


def _text(value: str) -> str:
    cleaned: str = ILLEGAL_CHARACTERS_RE.sub("", value)
    return cleaned


class _Book:
    """The synchronous part, run in a worker thread: openpyxl and the file."""

    def __init__(self) -> None:
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet("Cases")
        self.sheet.freeze_panes = "A2"
        for index, width in enumerate(_WIDTHS, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width
        self.sheet.append([self._heading(title) for title in COLUMNS])

    def _heading(self, title: str) -> Any:
        cell = WriteOnlyCell(self.sheet, value=title)
        cell.font = _BOLD
        return cell

    def _cell(self, value: Cell) -> Any:
        if isinstance(value, str):
            cell = WriteOnlyCell(self.sheet, value=_text(value))
            cell.data_type = "s"  # text stays text, even "=HYPERLINK(...)"
            return cell
        if isinstance(value, datetime):
            cell = WriteOnlyCell(self.sheet, value=value.replace(tzinfo=None))  # already in the business zone
            cell.number_format = "yyyy-mm-dd hh:mm"
            return cell
        if isinstance(value, date):
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.number_format = "yyyy-mm-dd"
            return cell
        if isinstance(value, Decimal):
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.number_format = "#,##0.00"
            return cell
        return value

    def append(self, rows: list[ExportRow]) -> None:
        for row in rows:
            self.sheet.append([self._cell(v) for v in row.cells()])

    def finish(self, meta: ExportMeta, written: int, cut: bool) -> IO[bytes]:
        about = self.workbook.create_sheet("About")
        about.column_dimensions["A"].width = 14
        about.column_dimensions["B"].width = 90
        lines: list[tuple[str, str]] = [
            ("Title", meta.title), ("Generated", meta.generated_at.strftime("%Y-%m-%d %H:%M %Z")),
            ("Filters", meta.filters), ("Rows", str(written))]
        if cut:
            lines.append(("Note", f"Only the first {written:,} cases are included (the limit of this format); "
                                  "narrow the filters or export CSV for all of them."))
        for name, value in lines:
            about.append([self._heading(name), WriteOnlyCell(about, value=_text(value))])
        target: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the writer once streamed
        self.workbook.save(target)
        target.seek(0)
        return target


class XlsxCaseListWriter:
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    extension = "xlsx"

    def __init__(self, *, max_rows: int | None = EXCEL_MAX_ROWS - 1) -> None:
        self.max_rows = max_rows

    async def write(self, batches: AsyncIterator[list[ExportRow]], meta: ExportMeta) -> AsyncIterator[bytes]:
        book = await asyncio.to_thread(_Book)
        written, cut = 0, False
        async for batch in batches:
            if self.max_rows is not None and written + len(batch) > self.max_rows:
                batch, cut = batch[:self.max_rows - written], True
            await asyncio.to_thread(book.append, batch)
            written += len(batch)
        target = await asyncio.to_thread(book.finish, meta, written, cut)
        try:
            while chunk := await asyncio.to_thread(target.read, _CHUNK):
                yield chunk
        finally:
            target.close()
