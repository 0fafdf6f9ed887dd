"""Readers of uploaded policy books, and `open_sheet`, which opens either kind.

csv: the encoding (UTF-8 with or without BOM, else Windows-1252) and the delimiter (`,` `;` tab `|`) are
detected from the first 64 KiB; rows are streamed, so memory does not grow with the file. Every value is
text; an empty one is None; a formula-looking cell ("=SUM(A1)") is just text.

xlsx: `xlsx_reader.XlsxSheetReader`, streamed too (docs/decisions/0008-streaming-xlsx-reader.md).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import weakref
from collections import deque
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO

from application.uploads.errors import UnreadableFile
from application.uploads.spreadsheets import CSV, XLSX, SheetReader, SheetRow

__all__ = ["CsvSheetReader", "open_sheet"]

_SAMPLE = 64 * 1024
_CHUNK = 1 << 20
_DELIMITERS = ",;\t|"
_Rows = Generator[SheetRow, None, None]


def open_sheet(path: Path, kind: str, *, whole_file: bool = True) -> SheetReader:
    """The sheet of an inspected file, its header read and at least one data row known to exist.

    Raises `UnreadableFile` when the file has no header (every row blank), a header but no data rows, or
    is damaged; `UnsafeFile` when an xlsx part declares a DTD or entities, or its cell references go beyond
    Excel's limits.
    """
    from adapters.spreadsheets.xlsx_reader import XlsxSheetReader as StreamingXlsxReader  # imports this module

    reader: CsvSheetReader | StreamingXlsxReader
    if kind == CSV:
        reader = CsvSheetReader(path, whole_file=whole_file)
    elif kind == XLSX:
        reader = StreamingXlsxReader(path)
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

    def __init__(self, path: Path, *, whole_file: bool = True) -> None:
        """`whole_file=False` (the upload POST's quick look) decides the encoding from the first 64 KiB and counts
        lines in the raw bytes, instead of decoding the whole file."""
        self._path = path
        self._active: weakref.WeakSet[_Rows] = weakref.WeakSet()
        self.warnings: list[str] = []
        with path.open("rb") as handle:
            sample = handle.read(_SAMPLE)
            whole = not handle.read(1)
        candidates = _candidate_encodings(sample, whole)
        if whole_file or whole:
            self.encoding, lines, bad_at = _encoding_and_lines(path, candidates)
        else:
            self.encoding, lines, bad_at = candidates[0], _count_lines(path), None
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


def _count_lines(path: Path) -> int:
    """Physical lines, counted in the raw bytes (no decoding: ~0.1 s for 300 MB)."""
    newlines = returns = size = 0
    last = b""
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK * 4):
            newlines += chunk.count(b"\n")
            if not newlines:
                returns += chunk.count(b"\r")
            size += len(chunk)
            last = chunk[-1:]
    return (newlines or returns) + (1 if size and last not in (b"\n", b"\r") else 0)


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
