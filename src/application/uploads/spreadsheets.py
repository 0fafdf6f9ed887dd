"""Ports for reading an uploaded policy book: the file inspector and the sheet reader it opens.

The inspector decides, before any parser touches the file, whether it is an xlsx or csv we are willing
to read; the reader then yields the sheet row by row. Both are synchronous and do file I/O: call them
from a worker thread (`anyio.to_thread.run_sync`, `asyncio.to_thread`) inside async code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final, Protocol

__all__ = ["CSV", "SHEET_KINDS", "XLSX", "FileInspector", "SheetReader", "SheetRow"]

XLSX: Final = "xlsx"
CSV: Final = "csv"
SHEET_KINDS: Final = (XLSX, CSV)

SheetRow = tuple[int, list[object]]
"""(row number as in the sheet, counting from 1, cells). A cell is None when empty; otherwise str for a
csv, and str, int, float, bool, date, datetime, time or timedelta for an xlsx (formulas give their cached
value, never evaluated)."""


class SheetReader(Protocol):
    """One opened sheet. The header is the first row with a non-blank cell (usually row 1).

    Row numbers are those a person sees in Excel: the header row's number is `header_row`, and the data
    rows after it keep their numbers even when blank rows are skipped (rows whose cells are all empty or
    spaces are never yielded). A csv record spanning several lines (a quoted line break) is one row.
    """

    kind: str  # "xlsx" or "csv"
    header: list[object]  # the header row's cells, as read (not trimmed)
    header_row: int  # its row number, usually 1
    estimated_rows: int  # data rows after the header, cheap to get: may count blank rows and trailers
    warnings: list[str]  # sentences for the uploader, e.g. which sheet of several was read

    def rows(self, start_after: int = 0) -> Iterator[SheetRow]:
        """The data rows in order, from the one after max(header_row, start_after).

        `start_after` is a checkpoint (the last row number already decided): rows up to it are skipped
        without being converted, so resuming a half-done upload costs little. Each call starts a new pass.
        May raise `UnreadableFile` mid-way when the file turns out to be damaged.
        """
        ...

    def close(self) -> None:
        """Release the file and any memory the sheet holds; idempotent."""
        ...


class SheetPreview(Protocol):
    """What acceptance needs, read without loading the sheet: the header, a row estimate, warnings."""

    header: list[object]
    estimated_rows: int
    warnings: list[str]


class FileInspector(Protocol):
    def inspect(self, path: Path, filename: str) -> str:
        """The kind ("xlsx" or "csv") of the file at `path`, uploaded as `filename`, or a refusal.

        Raises `FileTooLarge`, `UnsupportedFileType` (not xlsx/csv, or extension and content disagree),
        `UnsafeFile` (zip bomb, XML entity declarations, macros, encrypted parts) or `UnreadableFile`
        (empty, damaged). Reads only the file's start and the zip directory: it decompresses nothing
        beyond the first few KiB of each XML part, so every refusal is fast.
        """
        ...

    def open(self, path: Path, kind: str) -> SheetReader:
        """The sheet of an inspected file. Raises `UnreadableFile` when it has no header (nothing but
        blank rows), a header but no data rows, or is damaged; for an xlsx, `FileTooLarge` when a sheet
        spans more cells than can be held in memory and `UnsafeFile` when its few cells lie so far apart
        (or beyond Excel's last row or column) that reading them would take gigabytes."""
        ...

    def peek(self, path: Path, kind: str) -> SheetPreview:
        """The header and a cheap row estimate, in well under a second whatever the file's size (the POST
        answers with them); UnreadableFile when there is no header or no data row."""
        ...
