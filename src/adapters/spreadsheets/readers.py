"""Readers of uploaded policy books: csv streamed with the csv module, xlsx read with python-calamine.

csv: the encoding (UTF-8 with or without BOM, else Windows-1252) and the delimiter (`,` `;` tab `|`) are
detected from the first 64 KiB; rows are streamed, so memory does not grow with the file. Every value is
text; an empty one is None; a formula-looking cell ("=SUM(A1)") is just text.

xlsx: calamine loads the whole sheet into memory (measured: ~3 KB per row of 34 columns) and yields typed values
(str, int, float, bool, date, datetime, time, timedelta); formulas give their cached value, never evaluated
(none when the writer stored no cached value, as openpyxl does); a merged range has its value in its
top-left cell only. calamine sizes that memory by the box spanned by the sheet's cells, so two cells far
apart (A1 and XFD1048576, a 5 KB file) would ask for 512 GiB and abort the process: before calamine sees
a sheet, `sheet_extent` measures that box from the sheet XML and refuses one larger than `max_cells`.
See docs/decisions/0007-xlsx-reader.md.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import posixpath
import re
import weakref
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any, TypeVar
from xml.parsers import expat

import python_calamine
from defusedxml.common import DTDForbidden, EntitiesForbidden  # type: ignore[import-untyped]
from defusedxml.ElementTree import DefusedXMLParser  # type: ignore[import-untyped]

from application.uploads.errors import FileTooLarge, UnreadableFile, UnsafeFile
from application.uploads.spreadsheets import CSV, XLSX, SheetReader, SheetRow

__all__ = ["DEFAULT_MAX_CELLS", "CsvSheetReader", "WorkbookSheet", "XlsxSheetReader", "open_sheet",
           "several_sheets_warning", "sheet_extent", "workbook_sheets"]

DEFAULT_MAX_CELLS = 10_000_000  # ~290,000 rows of 34 columns; calamine's grid alone is 32 bytes a cell
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384

_SAMPLE = 64 * 1024
_CHUNK = 1 << 20
_DELIMITERS = ",;\t|"
_TEXT_RUN_LIMIT = 4 << 20  # bytes of sheet XML without a "<": Excel's longest cell text is 32,767 characters
_Rows = Generator[SheetRow, None, None]
T = TypeVar("T")


def open_sheet(path: Path, kind: str, *, max_cells: int = DEFAULT_MAX_CELLS) -> SheetReader:
    """The sheet of an inspected file, its header read and at least one data row known to exist.

    Raises `UnreadableFile` when the file has no header (every row blank), a header but no data rows, or
    is damaged; `FileTooLarge` when an xlsx sheet spans more than `max_cells` cells; `UnsafeFile` when its
    cell references go beyond Excel's limits.
    """
    reader: CsvSheetReader | XlsxSheetReader
    if kind == CSV:
        reader = CsvSheetReader(path)
    elif kind == XLSX:
        reader = XlsxSheetReader(path, max_cells=max_cells)
    else:
        raise ValueError(f"unknown sheet kind {kind!r}")
    try:
        rows = reader.rows()
        try:
            first = next(rows, None)
        finally:
            rows.close()
        if first is None:
            raise UnreadableFile("the file has a header but no rows")
    except BaseException:
        reader.close()
        raise
    return reader


def _is_blank(cells: list[object]) -> bool:
    """No cell holds anything but spaces (usually decided by the first cell)."""
    return not any(cell is not None and (type(cell) is not str or cell.strip()) for cell in cells)


# --- csv ------------------------------------------------------------------------------------------------

class CsvSheetReader:
    """A csv file streamed record by record; row numbers count records (a quoted line break stays in its row)."""

    kind: str = CSV
    header: list[object]
    header_row: int
    estimated_rows: int
    warnings: list[str]
    encoding: str  # "utf-8-sig", "utf-8" or "cp1252"
    delimiter: str

    def __init__(self, path: Path) -> None:
        self._path = path
        self._active: weakref.WeakSet[_Rows] = weakref.WeakSet()
        self.warnings: list[str] = []
        with path.open("rb") as handle:
            sample = handle.read(_SAMPLE)
            whole = not handle.read(1)
        self.encoding, lines, bad_at = _encoding_and_lines(path, _candidate_encodings(sample, whole))
        self._errors = "strict"
        if bad_at is not None:
            self._errors = "replace"
            self.warnings.append(
                f"some bytes of the file (from byte {bad_at:,}) are not valid {_ENCODING_NAMES[self.encoding]} "
                f"and were replaced by \"\N{REPLACEMENT CHARACTER}\"; save the file as \"CSV UTF-8\" to keep them")
        text = sample.decode(self.encoding, errors="replace")
        if not whole:  # the sample ends mid-line (maybe mid-character): keep whole lines only
            text = text[: max(text.rfind("\n"), text.rfind("\r"), 0)] or text
        self.delimiter = _detect_delimiter(text)
        self.header_row, self.header = self._find_header()
        self.estimated_rows = max(0, lines - self.header_row)

    def _open(self) -> IO[str]:
        return self._path.open("r", encoding=self.encoding, errors=self._errors, newline="")

    def _records(self, handle: IO[str]) -> Iterator[list[str]]:
        return csv.reader(handle, delimiter=self.delimiter, quotechar='"', doublequote=True, strict=False)

    def _find_header(self) -> tuple[int, list[object]]:
        with self._open() as handle:
            number = 0
            try:
                for number, record in enumerate(self._records(handle), 1):
                    if any(value.strip() for value in record):
                        return number, [value or None for value in record]
            except (csv.Error, UnicodeDecodeError) as error:
                raise UnreadableFile(f"row {number + 1} of the csv file cannot be read: {error}") from error
        raise UnreadableFile("the file has no header row: every row is blank")

    def rows(self, start_after: int = 0) -> _Rows:
        rows = self._rows(max(self.header_row, start_after))
        self._active.add(rows)
        return rows

    def _rows(self, skip: int) -> _Rows:
        number = skip
        with self._open() as handle:
            records = self._records(handle)
            try:
                deque(itertools.islice(records, skip), maxlen=0)  # skipped at C speed, nothing converted
                for number, record in enumerate(records, skip + 1):
                    if any(value.strip() for value in record):
                        yield number, [value or None for value in record]
            except (csv.Error, UnicodeDecodeError) as error:
                raise UnreadableFile(f"row {number + 1} of the csv file cannot be read: {error}") from error

    def close(self) -> None:
        for rows in list(self._active):
            rows.close()

    def __enter__(self) -> CsvSheetReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "cp1252": "Windows-1252"}


def _decodes(data: bytes, encoding: str, final: bool) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final)
    except UnicodeDecodeError:
        return False
    return True


def _candidate_encodings(sample: bytes, whole: bool) -> list[str]:
    """UTF-8 with BOM; UTF-8 when the sample decodes as UTF-8 (a character cut at its end is no error), with
    Windows-1252 as the second choice while the sample is plain ASCII; else Windows-1252."""
    if sample.startswith(codecs.BOM_UTF8):
        return ["utf-8-sig"]
    if _decodes(sample, "utf-8", whole):
        return ["utf-8", "cp1252"] if sample.isascii() else ["utf-8"]
    return ["cp1252"]


def _encoding_and_lines(path: Path, candidates: list[str]) -> tuple[str, int, int | None]:
    """(the first candidate that decodes the whole file, else the first one; physical lines; the byte offset
    of the first byte the chosen encoding cannot decode, or None) in one pass over the file.

    An ASCII sample followed by "é" in Windows-1252 further down is Windows-1252, not broken UTF-8."""
    decoders = {encoding: codecs.getincrementaldecoder(encoding)() for encoding in candidates}
    failed: dict[str, int] = {}
    newlines = returns = size = 0
    last = b""
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            newlines += chunk.count(b"\n")
            returns += chunk.count(b"\r")
            for encoding, decoder in decoders.items():
                if encoding not in failed:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError as error:
                        failed[encoding] = size + max(error.start, 0)
            if len(failed) == len(candidates):
                decoders = {}
            size += len(chunk)
            last = chunk[-1:]
    for encoding, decoder in decoders.items():
        if encoding not in failed:
            try:
                decoder.decode(b"", True)
            except UnicodeDecodeError:
                failed[encoding] = size
    chosen = next((encoding for encoding in candidates if encoding not in failed), candidates[0])
    breaks = newlines or returns  # old Mac files end their lines with CR alone
    return chosen, breaks + (1 if size and last not in (b"\n", b"\r") else 0), failed.get(chosen)


def _detect_delimiter(text: str) -> str:
    """csv.Sniffer's choice when it splits the sample consistently, else the most consistent candidate."""
    if not text.strip():
        return ","
    try:
        sniffed: str | None = csv.Sniffer().sniff(text, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    scores = {delimiter: _split_score(text, delimiter) for delimiter in _DELIMITERS}
    if sniffed in scores and scores[sniffed][0]:
        return sniffed
    best = max(_DELIMITERS, key=lambda delimiter: scores[delimiter])
    return best if scores[best][0] else ","


def _split_score(text: str, delimiter: str) -> tuple[bool, float, int]:
    """(splits the header and >= 80 % of the sampled records alike, that share, header fields)."""
    sample = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = [record for record in itertools.islice(sample, 200) if any(value.strip() for value in record)]
    if not records:
        return False, 0.0, 0
    width = len(records[0])
    share = sum(len(record) == width for record in records) / len(records)
    return width > 1 and share >= 0.8, share, width


# --- xlsx -----------------------------------------------------------------------------------------------

class XlsxSheetReader:
    """The first visible worksheet with a non-blank row, loaded by calamine once its extent is checked."""

    kind: str = XLSX
    header: list[object]
    header_row: int
    estimated_rows: int
    warnings: list[str]
    sheet_name: str

    def __init__(self, path: Path, *, max_cells: int = DEFAULT_MAX_CELLS) -> None:
        self.warnings: list[str] = []
        self._active: weakref.WeakSet[_Rows] = weakref.WeakSet()
        self._sheet: python_calamine.CalamineSheet | None = None
        self._book: python_calamine.CalamineWorkbook | None = None
        sheet_extent(path, max_cells=max_cells)  # refuses a sheet calamine could not hold, before it reads one
        self._book = _calamine(partial(python_calamine.CalamineWorkbook.from_path, str(path)))
        try:
            self.sheet_name, self.header_row, self.header = self._first_sheet_with_data()
            assert self._sheet is not None
            end = self._sheet.end
            self.estimated_rows = max(0, (end[0] + 1 if end else 0) - self.header_row)
        except BaseException:
            self.close()
            raise

    def _first_sheet_with_data(self) -> tuple[str, int, list[object]]:
        book = self._book
        assert book is not None
        worksheets = [meta for meta in book.sheets_metadata if meta.typ == python_calamine.SheetTypeEnum.WorkSheet]
        visible = [meta.name for meta in worksheets if meta.visible == python_calamine.SheetVisibleEnum.Visible]
        for name in visible:
            sheet = _calamine(partial(book.get_sheet_by_name, name))
            for number, values in enumerate(_calamine(sheet.iter_rows), 1):
                cells = _cells(values)
                if not _is_blank(cells):
                    self._sheet = sheet
                    if len(visible) > 1:
                        self.warnings.append(several_sheets_warning(len(visible), name))
                    return name, number, cells
        if not visible:
            raise UnreadableFile("the workbook has no visible worksheet")
        raise UnreadableFile("the file has no header row: every visible sheet is blank")

    def rows(self, start_after: int = 0) -> _Rows:
        rows = self._rows(max(self.header_row, start_after))
        self._active.add(rows)
        return rows

    def _rows(self, skip: int) -> _Rows:
        sheet = self._sheet
        if sheet is None:
            raise UnreadableFile("the workbook is closed")
        values = _calamine(sheet.iter_rows)
        deque(itertools.islice(values, skip), maxlen=0)
        for number, row in enumerate(values, skip + 1):
            cells = _cells(row)
            if not _is_blank(cells):
                yield number, cells

    def close(self) -> None:
        for rows in list(self._active):
            rows.close()
        self._sheet = None
        book, self._book = self._book, None
        if book is not None:
            with contextlib.suppress(python_calamine.CalamineError):  # already closed
                book.close()

    def __enter__(self) -> XlsxSheetReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _cells(values: list[Any]) -> list[object]:
    return [None if value == "" else value for value in values]


def _calamine(call: Callable[[], T]) -> T:
    """Run a python-calamine call; its errors (and Rust panics, which are BaseExceptions) -> UnreadableFile."""
    try:
        return call()
    except python_calamine.PasswordError as error:
        raise UnreadableFile("the workbook is password-protected: remove the password and upload it again") \
            from error
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as error:
        raise UnreadableFile(f"the workbook cannot be read ({error}): open it in Excel and save it again") \
            from error


# --- the extent of the sheets (what calamine would allocate) ----------------------------------------------

def sheet_extent(path: Path, *, max_cells: int = DEFAULT_MAX_CELLS) -> tuple[int, int]:
    """(rows, columns) of the largest box a sheet of the workbook spans; refuse it above `max_cells` cells.

    calamine allocates rows x columns cells (32 bytes each) for the box from the sheet's first to its last
    cell, whatever lies between. Every part the workbook's sheets point to is measured: first the cheap
    way, trusting the sheet's `<dimension ref>` after checking with one regular-expression pass that every
    `<c r="...">` lies inside it (the form Excel, LibreOffice, openpyxl, xlsxwriter and POI write); else
    the exact way, replaying calamine's positions (explicit `r`, or the next column / row) with a
    defused XML parser, which costs a few seconds per 100,000 rows.
    """
    widest = (0, 0)
    try:
        with zipfile.ZipFile(path) as archive:
            for info in _sheet_parts(archive):
                rows, columns = _part_extent(archive, info, max_cells)
                cells = rows * columns
                if cells > max_cells and cells > 64 * max(info.file_size // 8, 1):  # >= 8 bytes of XML a cell
                    raise UnsafeFile(
                        f"a sheet's few cells lie far apart ({rows:,} rows x {columns:,} columns): reading it would "
                        f"take memory for {cells:,} cells; delete the stray cells far from the data")
                if cells > max_cells:
                    raise FileTooLarge(
                        f"a sheet spans {rows:,} rows x {columns:,} columns ({cells:,} cells); at most "
                        f"{max_cells:,} cells can be read from a workbook: delete stray cells far from the data, "
                        f"split the book, or save it as CSV (read row by row)")
                widest = max(widest, (rows, columns), key=lambda box: box[0] * box[1])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, EOFError,
            zlib.error) as error:
        raise UnreadableFile(f"the workbook is damaged ({error}): open it in Excel and save it again") from error
    return widest


def _sheet_parts(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The members calamine may read as sheets: each sheet's relationship target, resolved as calamine does
    and also normalised, matched without regard to case (as calamine does), every duplicate included; plus
    any member whose name holds "&" (an attribute calamine reads undecoded could name it)."""
    by_name = _members_by_name(archive)
    relationships, sheets = _workbook_entries(archive, by_name)
    wanted: set[str] = set()
    for attributes in sheets:
        for relationship_id in _relationship_ids(attributes):
            for relationship in relationships.get(relationship_id, ()):
                wanted.update(name.lower() for name in _calamine_paths(relationship["Target"]))
    wanted.update(name for name in by_name if "&" in name)
    return [info for name in sorted(wanted) for info in by_name.get(name, ())]


@dataclass(frozen=True)
class WorkbookSheet:
    """A sheet as xl/workbook.xml lists it, its part found as calamine finds it."""

    name: str
    state: str  # the `state` attribute: "visible" (also when absent), "hidden" or "veryHidden"
    kind: str  # the relationship type's last segment: "worksheet", "chartsheet", "dialogsheet"...
    part: zipfile.ZipInfo | None  # the member calamine reads, matched without regard to case; None if missing

    @property
    def readable(self) -> bool:
        """A visible worksheet: the sheets the reader considers, in workbook order."""
        return self.kind == "worksheet" and self.state == "visible"


def workbook_sheets(archive: zipfile.ZipFile) -> list[WorkbookSheet]:
    """The workbook's sheets in order, as calamine lists them (`sheets_metadata`): the relationship named by
    each `<sheet r:id>` gives the type and the part (target resolved as calamine does: "/xl/x", "xl/x" and
    "x" all mean xl/x). Parsed with the same defused parser as the extent check."""
    by_name = _members_by_name(archive)
    relationships, sheets = _workbook_entries(archive, by_name)
    found: list[WorkbookSheet] = []
    for attributes in sheets:
        relationship = next((relationship for relationship_id in _relationship_ids(attributes)
                             for relationship in relationships.get(relationship_id, ())), None)
        part = None
        kind = ""
        if relationship is not None:
            kind = relationship.get("Type", "").rpartition("/")[2]
            part = next(iter(by_name.get(_calamine_path(relationship["Target"]).lower(), ())), None)
        found.append(WorkbookSheet(name=attributes.get("name", ""), state=attributes.get("state", "visible"),
                                   kind=kind, part=part))
    return found


def several_sheets_warning(visible: int, name: str) -> str:
    """The warning given when a workbook has more than one visible worksheet and `name` was read."""
    return f'the workbook has {visible} visible sheets; only the first with data, "{name}", was read'


def _members_by_name(archive: zipfile.ZipFile) -> dict[str, list[zipfile.ZipInfo]]:
    by_name: dict[str, list[zipfile.ZipInfo]] = {}
    for info in archive.infolist():
        by_name.setdefault(info.filename.lower(), []).append(info)
    return by_name


def _workbook_entries(archive: zipfile.ZipFile, by_name: dict[str, list[zipfile.ZipInfo]]
                      ) -> tuple[dict[str, list[dict[str, str]]], list[dict[str, str]]]:
    """(the workbook's relationships with a Target, by Id; the attributes of its `<sheet>` elements, in order)."""
    relationships: dict[str, list[dict[str, str]]] = {}
    for attributes in _xml_elements(archive, by_name, "xl/_rels/workbook.xml.rels", "Relationship"):
        if "Id" in attributes and "Target" in attributes:
            relationships.setdefault(attributes["Id"], []).append(attributes)
    return relationships, _xml_elements(archive, by_name, "xl/workbook.xml", "sheet")


def _relationship_ids(attributes: dict[str, str]) -> list[str]:
    """The relationship ids a `<sheet>` names (namespaced `r:id`, as ElementTree spells it, or a bare prefix)."""
    return [value for key, value in attributes.items() if key.endswith("}id") or key in ("r:id", "relationships:id")]


def _calamine_path(target: str) -> str:
    """A relationship target as calamine resolves it: "/xl/x" and "xl/x" are xl/x, anything else is under xl/."""
    return target[1:] if target.startswith("/xl/") else target if target.startswith("xl/") else f"xl/{target}"


def _calamine_paths(target: str) -> set[str]:
    as_calamine = _calamine_path(target)
    bare = target.lstrip("/")
    return {as_calamine, posixpath.normpath(as_calamine), bare, posixpath.normpath(f"xl/{bare}"),
            posixpath.normpath(bare)}


class _Collect:
    """A parser target keeping the attributes of the elements of one local name."""

    def __init__(self, local: str) -> None:
        self.local = local
        self.found: list[dict[str, str]] = []

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        if tag.rpartition("}")[2] == self.local:
            self.found.append(dict(attributes))

    def close(self) -> None:
        return None


def _xml_elements(archive: zipfile.ZipFile, by_name: dict[str, list[zipfile.ZipInfo]], name: str,
                  local: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for info in by_name.get(name, ()):
        target = _Collect(local)
        _parse(archive, info, target)
        found.extend(target.found)
    return found


def _parse(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: object) -> None:
    """Feed a member to a defused parser (no DTD, no entities, no external references) calling `target`."""
    parser = DefusedXMLParser(target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                parser.feed(chunk)
        parser.close()
    except (UnreadableFile, UnsafeFile, FileTooLarge):
        raise
    except ValueError as error:  # defusedxml's DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
        raise UnsafeFile(f"the workbook's part {info.filename} declares XML entities or a DTD") from error
    except SyntaxError as error:  # xml.etree.ElementTree.ParseError
        raise UnreadableFile(f"the workbook's part {info.filename} is not well-formed XML ({error})") from error


_DIMENSION = re.compile(rb'<dimension\s+ref="\$?([A-Z]{1,3})\$?([0-9]{1,7})(?::\$?([A-Z]{1,3})\$?([0-9]{1,7}))?"')
_XML_DECLARATION = re.compile(rb'^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["\']([^"\']*)["\']')
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
_ANY_CELL = re.compile(rb"<c[\s/>]")
_STRICT_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')
_ROW_TAG = re.compile(rb'<row\s+r="([0-9]{1,7})"')


def _part_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_cells: int) -> tuple[int, int]:
    box = _extent_quickly(archive, info, hints=True)
    if box is not None and box[0] * box[1] > max_cells:  # the dimension or empty formatted rows may overstate it
        box = _extent_quickly(archive, info, hints=False)
    if box is None:
        box = _extent_exactly(archive, info)
    return box


def _pieces(stream: IO[bytes]) -> Iterator[bytes]:
    """The decompressed member in ~1 MiB pieces, each cut just before a "<" so no tag start is split."""
    carry = b""
    while chunk := stream.read(_CHUNK):
        buffer = carry + chunk if carry else chunk
        cut = buffer.rfind(b"<")
        if cut <= 0:
            carry = buffer
            if len(carry) > _TEXT_RUN_LIMIT:
                raise UnsafeFile("a sheet of the workbook holds megabytes of text outside any tag")
            continue
        yield buffer[:cut]
        carry = buffer[cut:]
    if carry:
        yield carry


def _extent_quickly(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, hints: bool) -> tuple[int, int] | None:
    """The box from A1 holding every cell, when every cell tag is written `<c r="B7"`; else None.

    A bound (rows, columns) is kept: with `hints`, it starts at the sheet's `<dimension ref>` and follows the
    number of the last `<row r>` of each piece. Each piece is checked with one regular expression that
    finds any cell tag not of that form or outside the bound, without building objects per cell; a piece
    that fails has its cells measured and the bound grown, and is checked again (a second failure means
    tags of another form). About 0.5 s per 100,000 rows of 34 columns; 2 s without hints.
    """
    rows = columns = 0
    with archive.open(info) as stream:
        for index, piece in enumerate(_pieces(stream)):
            if index == 0:
                declared = _XML_DECLARATION.match(piece)
                if (b"\x00" in piece[:4096] or piece.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
                        or (declared and declared.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii"))):
                    return None  # not plainly UTF-8: these byte patterns would not see its tags
                dimension = _DIMENSION.search(piece, 0, max(piece.find(b"<sheetData"), 0) or len(piece))
                if hints and dimension is not None:
                    letters, digits = dimension.group(3, 4) if dimension.group(3) else dimension.group(1, 2)
                    rows, columns = _within_excel(int(digits), _column_number(letters.decode()))
            if _PREFIXED_CELL.search(piece):
                return None
            if hints and (last_row := _ROW_TAG.match(piece, max(piece.rfind(b"<row "), 0))) is not None:
                rows = max(rows, int(last_row.group(1)))
            for attempt in (1, 2):
                if _outside(rows, columns).search(piece) is None:
                    break
                if attempt == 2:
                    return None
                grown = _strict_cells_extent(piece)
                rows, columns = _within_excel(max(rows, grown[0]), max(columns, grown[1]))
    return rows, columns


_OUTSIDE_CACHE: dict[tuple[int, int], re.Pattern[bytes]] = {}


def _outside(rows: int, columns: int) -> re.Pattern[bytes]:
    """A pattern finding a cell tag that is not `<c r="XY123"` inside A1:(columns, rows)."""
    key = (rows, columns)
    pattern = _OUTSIDE_CACHE.get(key)
    if pattern is None:
        if rows == 0 or columns == 0:
            pattern = _ANY_CELL
        else:
            pattern = re.compile(rb'<c(?=[\s/>])(?! r="' + _up_to_column(_column_name(columns)).encode()
                                 + _up_to_number(rows).encode() + rb'")')
        if len(_OUTSIDE_CACHE) > 64:
            _OUTSIDE_CACHE.clear()
        _OUTSIDE_CACHE[key] = pattern
    return pattern


def _strict_cells_extent(piece: bytes) -> tuple[int, int]:
    """(largest row, largest column) of the `<c r="XY123"` tags of a piece."""
    found = _STRICT_CELL.findall(piece)
    if not found:
        return 0, 0
    return (max(int(digits) for _, digits in found),
            max(_column_number(letters.decode()) for letters in {letters for letters, _ in found}))


def _within_excel(rows: int, columns: int) -> tuple[int, int]:
    if rows > EXCEL_MAX_ROWS or columns > EXCEL_MAX_COLUMNS:
        raise UnsafeFile("a sheet of the workbook has cells beyond Excel's last row or column")
    return rows, columns


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def _column_name(number: int) -> str:
    name = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        name = chr(65 + remainder) + name
    return name


def _up_to_number(bound: int) -> str:
    """A regular expression matching the decimal numbers 1..bound, written without leading zeros."""
    text = str(bound)
    options = [f"[1-9][0-9]{{0,{len(text) - 2}}}"] if len(text) > 1 else []
    options += _up_to(text, "0", "9", first="1")
    return "(?:" + "|".join(options) + ")"


def _up_to_column(bound: str) -> str:
    """A regular expression matching the column names A..bound (upper case)."""
    options = [f"[A-Z]{{1,{len(bound) - 1}}}"] if len(bound) > 1 else []
    options += _up_to(bound, "A", "Z", first="A")
    return "(?:" + "|".join(options) + ")"


def _up_to(bound: str, low: str, high: str, *, first: str) -> list[str]:
    """Patterns of the strings of len(bound) over low..high that sort at or before `bound`."""
    options = []
    for index, char in enumerate(bound):
        lowest = first if index == 0 else low
        if char > lowest:
            rest = len(bound) - index - 1
            options.append(re.escape(bound[:index]) + f"[{lowest}-{chr(ord(char) - 1)}]"
                           + (f"[{low}-{high}]{{{rest}}}" if rest else ""))
    options.append(re.escape(bound))
    return options


_REFERENCE = re.compile(r"([A-Za-z]*)([0-9]+)")


class _Extent:
    """Replays calamine's cell positions (calamine xlsx/cells_reader.rs) over pyexpat events: a `<c>` with
    `r` is there; one without is at the current row, in the column after the previous cell; `<row r>` sets
    the current row and `</row>` moves to the next. Prefixes are ignored (calamine compares local names).
    Cells without a value count too, though calamine skips them: the box can only come out larger."""

    def __init__(self) -> None:
        self.row = 0
        self.column = 0
        self.top = self.left = -1
        self.bottom = self.right = -1

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "c":
            row, column = _cell_position(attributes, self.row, self.column)
            self.top = row if self.top < 0 else min(self.top, row)
            self.left = column if self.left < 0 else min(self.left, column)
            self.bottom = max(self.bottom, row)
            self.right = max(self.right, column)
            self.column = column + 1
        elif local == "row":
            reference = attributes.get("r")
            if reference is not None:
                self.row = _position(reference)[0]

    def end(self, name: str) -> None:
        if name.rpartition(":")[2] == "row":
            self.row += 1
            self.column = 0


def _cell_position(attributes: dict[str, str], row: int, column: int) -> tuple[int, int]:
    """(row, column), from 0, of a `<c>` element: its `r` reference, or the position after the previous cell
    (`row`, `column`) when it has none; refuses malformed references and cells beyond Excel's limits."""
    reference = attributes.get("r")
    if reference is not None:
        row, maybe_column = _position(reference)
        if maybe_column is None:
            raise UnreadableFile(f"a cell of the workbook has the reference {reference!r}")
        column = maybe_column
    if row >= EXCEL_MAX_ROWS or column >= EXCEL_MAX_COLUMNS:
        raise UnsafeFile("a sheet of the workbook has cells beyond Excel's last row or column")
    return row, column


def _position(reference: str) -> tuple[int, int | None]:
    """(row, column or None), both from 0, of "B7" / "7" (calamine's get_row_and_optional_column)."""
    match = _REFERENCE.fullmatch(reference)
    if match is None or int(match.group(2)) == 0:
        raise UnreadableFile(f"a cell of the workbook has the reference {reference!r}")
    letters, digits = match.groups()
    if len(digits) > 8 or len(letters) > 4:
        raise UnsafeFile("a sheet of the workbook has cells beyond Excel's last row or column")
    return int(digits) - 1, (_column_number(letters) - 1 if letters else None)


def _forbid(*_: object) -> None:
    raise DTDForbidden(None, None, None)


def _forbid_entity(*_: object) -> None:
    raise EntitiesForbidden(None, None, None, None, None, None)


def _forbid_external(*_: object) -> int:
    raise EntitiesForbidden(None, None, None, None, None, None)


def _extent_exactly(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """The box calamine would allocate, measured with pyexpat (about 5 s per 100,000 rows of 34 columns).

    pyexpat directly rather than an ElementTree target for speed, defused as defusedxml does it: a DTD, an
    entity declaration or an external reference raises defusedxml's exceptions."""
    extent = _Extent()
    parser = expat.ParserCreate()
    parser.StartElementHandler = extent.start
    parser.EndElementHandler = extent.end
    parser.StartDoctypeDeclHandler = _forbid
    parser.EntityDeclHandler = _forbid_entity
    parser.UnparsedEntityDeclHandler = _forbid_entity
    parser.ExternalEntityRefHandler = _forbid_external
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except (DTDForbidden, EntitiesForbidden) as error:
        raise UnsafeFile(f"the workbook's part {info.filename} declares XML entities or a DTD") from error
    except expat.ExpatError as error:
        raise UnreadableFile(f"the workbook's part {info.filename} is not well-formed XML ({error})") from error
    if extent.bottom < 0:
        return 0, 0
    return extent.bottom - extent.top + 1, extent.right - extent.left + 1
