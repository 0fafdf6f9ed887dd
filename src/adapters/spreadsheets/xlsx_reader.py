"""The xlsx reader: the first visible worksheet with a non-blank row, streamed row by row (`xlsx_stream`).

Memory does not grow with the sheet (only the shared strings table is held, as a list), so there is no cell
box to bound and no extent check before reading. See docs/decisions/0008-streaming-xlsx-reader.md.
"""

from __future__ import annotations

import weakref
import zipfile
import zlib
from collections.abc import Generator, Iterator
from pathlib import Path

from adapters.spreadsheets.preview import _Styles, peek_sheet
from adapters.spreadsheets.readers import _is_blank
from adapters.spreadsheets.xlsx_parts import _members_by_name, several_sheets_warning, workbook_sheets
from adapters.spreadsheets.xlsx_stream import DEFAULT_MAX_COLUMNS, SharedStringTable, SheetStream
from application.uploads.errors import UnreadableFile
from application.uploads.spreadsheets import XLSX, SheetRow

__all__ = ["XlsxSheetReader"]

_Rows = Generator[SheetRow, None, None]
_DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, EOFError,
            zlib.error)


def _damaged(error: BaseException) -> UnreadableFile:
    return UnreadableFile(f"the workbook is damaged ({error}): open it in Excel and save it again")


class XlsxSheetReader:
    """The first visible worksheet with a non-blank row; each `rows()` call streams the sheet part again."""

    kind: str = XLSX
    header: list[object]
    header_row: int
    estimated_rows: int
    warnings: list[str]
    sheet_name: str

    def __init__(self, path: Path, *, max_columns: int = DEFAULT_MAX_COLUMNS) -> None:
        self.warnings: list[str] = []
        self._active: weakref.WeakSet[_Rows] = weakref.WeakSet()
        self._max_columns = max_columns
        self._strings: SharedStringTable | None = None
        self._styles: _Styles | None = None
        try:
            self._archive: zipfile.ZipFile | None = zipfile.ZipFile(path)
        except _DAMAGED as error:
            raise _damaged(error) from error
        try:
            self._by_name = _members_by_name(self._archive)
            self._part, self.sheet_name, self.header_row, self.header = self._first_sheet_with_data()
            self.estimated_rows = peek_sheet(path, XLSX).estimated_rows  # the upload's figure, a few ms
        except _DAMAGED as error:
            self.close()
            raise _damaged(error) from error
        except BaseException:
            self.close()
            raise

    def _open_archive(self) -> zipfile.ZipFile:
        if self._archive is None:
            raise UnreadableFile("the workbook is closed")
        return self._archive

    def _shared_strings(self) -> SharedStringTable:
        if self._strings is None:
            info = next(iter(self._by_name.get("xl/sharedstrings.xml", ())), None)
            self._strings = SharedStringTable(self._open_archive(), info)
        return self._strings

    def _cell_styles(self) -> _Styles:
        if self._styles is None:
            self._styles = _Styles(self._open_archive(), self._by_name)
        return self._styles

    def _stream(self, part: zipfile.ZipInfo) -> SheetStream:
        return SheetStream(self._open_archive(), part, self._shared_strings, self._cell_styles,
                           max_columns=self._max_columns)

    def _first_sheet_with_data(self) -> tuple[zipfile.ZipInfo, str, int, list[object]]:
        sheets = workbook_sheets(self._open_archive())
        visible = [sheet for sheet in sheets if sheet.readable]
        for sheet in visible:
            if sheet.part is None:
                raise UnreadableFile(f'the workbook cannot be read (the sheet "{sheet.name}" is missing): open it in '
                                     f"Excel and save it again")
            rows = self._stream(sheet.part).rows()
            try:
                for number, cells in rows:
                    if not _is_blank(cells):
                        if len(visible) > 1:
                            self.warnings.append(several_sheets_warning(len(visible), sheet.name))
                        return sheet.part, sheet.name, number, cells
            finally:
                if isinstance(rows, Generator):
                    rows.close()
        if not visible:
            raise UnreadableFile("the workbook has no visible worksheet")
        raise UnreadableFile("the file has no header row: every visible sheet is blank")

    def rows(self, start_after: int = 0) -> _Rows:
        rows = self._rows(max(self.header_row, start_after))
        self._active.add(rows)
        return rows

    def _rows(self, skip: int) -> _Rows:
        stream = self._stream(self._part)
        values: Iterator[tuple[int, list[object]]] = stream.rows(skip)
        try:
            for number, cells in values:
                if not _is_blank(cells):
                    yield number, cells
        except _DAMAGED as error:
            raise _damaged(error) from error

    def close(self) -> None:
        for rows in list(self._active):
            rows.close()
        archive, self._archive = self._archive, None
        self._strings = None
        if archive is not None:
            archive.close()

    def __enter__(self) -> XlsxSheetReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
