"""The CSV writer: streamed a batch at a time, UTF-8 with a byte-order mark (Excel reads it as UTF-8), and safe
to open in a spreadsheet (text that starts like a formula gets a leading quote)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal

from application.policies.case_export import COLUMNS, Cell, ExportMeta, ExportRow, safe_text

__all__ = ["CsvCaseListWriter", "cell_text"]


def cell_text(value: Cell) -> str:
    """A cell as text: dates ISO, times to the minute, money with two decimals, nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


class CsvCaseListWriter:
    media_type = "text/csv; charset=utf-8"
    extension = "csv"

    def __init__(self, *, max_rows: int | None = None) -> None:
        self.max_rows = max_rows

    async def write(self, batches: AsyncIterator[list[ExportRow]], meta: ExportMeta) -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        out = csv.writer(buffer, lineterminator="\r\n")
        out.writerow(COLUMNS)
        yield ("\ufeff" + buffer.getvalue()).encode()
        written = 0
        async for batch in batches:
            buffer.seek(0)
            buffer.truncate()
            for row in batch:
                if self.max_rows is not None and written >= self.max_rows:
                    break
                out.writerow([safe_text(text) if isinstance(value, str) else text
                              for value, text in ((v, cell_text(v)) for v in row.cells())])
                written += 1
            if buffer.tell():
                yield buffer.getvalue().encode()
