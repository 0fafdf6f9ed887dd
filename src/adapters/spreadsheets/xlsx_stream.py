"""The rows of one worksheet part, streamed: never more than a few MiB of sheet XML in memory.

The part is inflated in 1 MiB pieces and cut before its last `<row`, so each piece holds whole rows. A piece
whose cells are all written the way Excel, LibreOffice, openpyxl and xlsxwriter write them
(`<c r="B7" s="3" t="s"><v>12</v></c>`, attributes r, s, t in that order, `<f>`, `<v>`, `<is>` children) is read
by one regular expression at C speed; the cells are counted first (`bytes.count` of `<c` tags), and a piece
holding any other form (no `r`, other attributes, a namespace prefix, `<v/>`) is read by pyexpat instead,
defused as defusedxml does it. Values are read as calamine reads them (see `preview.py`): shared strings,
inline strings stripped unless xml:space="preserve" and without phonetic runs, `_xHHHH_` escapes, booleans,
errors as blank, ISO dates, numbers as float or, under a date format, date/datetime/time/timedelta.

Rows start at column A; cells beyond `max_columns` are dropped (and counted). Row numbers must increase.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import IO
from xml.parsers import expat

from defusedxml.common import DTDForbidden, EntitiesForbidden  # type: ignore[import-untyped]

from adapters.spreadsheets.preview import _INDEX, _iso, _Number, _StringItem, _Styles, _unescape
from adapters.spreadsheets.xlsx_parts import _cell_position, _forbid, _forbid_entity, _forbid_external
from application.uploads.errors import UnreadableFile, UnsafeFile

__all__ = ["DEFAULT_MAX_COLUMNS", "SharedStringTable", "SheetStream"]

DEFAULT_MAX_COLUMNS = 1024
_PIECE = 1 << 20
_MAX_BUFFER = 64 << 20  # sheet XML without a row start: no real row is this long
_FAST_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})([0-9]{1,7})"(?: s="([0-9]{1,6})")?(?: t="([a-zA-Z]{1,9})")?'
    rb'(?:/>|>(?:<f(?: [^>]*)?(?:/>|>[^<]*</f>))?(?:<v>([^<]*)</v>|<is><t>([^<]*)</t></is>|<is>(.*?)</is>)?</c>)',
    re.S)
_CELL_TAGS = (b"<c ", b"<c>", b"<c/>", b"<c\n", b"<c\t", b"<c\r")
_DATE_CACHE_LIMIT = 50_000
_PLAIN_T = re.compile(rb"<t>([^<]*)</t>")
_PRESERVED_T = re.compile(rb'<t xml:space="preserve">([^<]*)</t>')
_FLOAT = re.compile(rb"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE)
_ROW_NUMBER = re.compile(rb'<row r="([0-9]{1,7})"')
_ENCODING = re.compile(rb'^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["\']([^"\']*)["\']')
_SHEET_DATA = re.compile(rb"<([\w.-]+:)?sheetData[\s/>]")
_SHEET_DATA_END = re.compile(rb"</(?:[\w.-]+:)?sheetData>")
_SST_ITEM = re.compile(rb"<si>(.*?)</si>|<si/>()", re.S)
_SST_ROOT = re.compile(rb"<([\w.-]+:)?sst[\s>]")
_SST_CLOSE = re.compile(rb"</(?:[\w.-]+:)?sst\s*>")
_SST_END = re.compile(rb"\s*(?:</sst\s*>\s*)?")
_EMPTY = object()
Row = tuple[int, list[object]]


def _text(raw: bytes, *, escaped: bool = True) -> str:
    """Cell text from the XML bytes: entities decoded (unless the parser did it), then `_xHHHH_` escapes."""
    text = raw.decode()
    if escaped and "&" in text:
        text = html.unescape(text)
    return _unescape(text)


def _string_item(content: bytes) -> str:
    """The text of an `<is>`/`<si>` body: the fast forms by regular expression, anything else by pyexpat."""
    if match := _PLAIN_T.fullmatch(content):
        text = match.group(1).decode()
        return _unescape((html.unescape(text) if "&" in text else text).strip(" \t\r\n"))
    if match := _PRESERVED_T.fullmatch(content):
        return _text(match.group(1))
    if not content:
        return ""
    item = _StringItem()
    parser = _parser()
    parser.StartElementHandler = lambda tag, attributes: item.start(tag.rpartition(":")[2], attributes)
    parser.EndElementHandler = lambda tag: item.end(tag.rpartition(":")[2])
    parser.CharacterDataHandler = item.text
    _parse(parser, b"<is>" + content + b"</is>", "a string")
    return item.value()


def _parser() -> expat.XMLParserType:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _forbid
    parser.EntityDeclHandler = _forbid_entity
    parser.UnparsedEntityDeclHandler = _forbid_entity
    parser.ExternalEntityRefHandler = _forbid_external
    return parser


def _parse(parser: expat.XMLParserType, data: bytes, what: str) -> None:
    try:
        parser.Parse(data, True)
    except (DTDForbidden, EntitiesForbidden) as error:
        raise UnsafeFile("the workbook declares XML entities or a DTD") from error
    except expat.ExpatError as error:
        raise UnreadableFile(f"the workbook cannot be read ({what} is not well-formed XML: {error}): open it in "
                             f"Excel and save it again") from error


class SharedStringTable:
    """xl/sharedStrings.xml read once, in pieces, into a list: the `<si><t>` forms by regular expression, a
    piece holding any other form (a prefix, `<si >`, rich text is fine) item by item with pyexpat."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo | None) -> None:
        self.strings: list[str] = []
        if info is None:
            return
        with archive.open(info) as stream:
            carry = stream.read(4096)
            _check_encoding(carry[:256], info.filename)
            root = _SST_ROOT.search(carry)
            if root is None:
                raise UnreadableFile("the workbook's shared strings cannot be read: open it in Excel and save it again")
            _refuse_declarations(carry[:root.start()])
            prefix = root.group(1) or b""
            item, carry = b"<" + prefix + b"si", carry[root.end():]
            while True:
                piece = stream.read(_PIECE)
                data = carry + piece
                cut = data.rfind(item) if piece else len(data)
                body, carry = (data[:cut], data[cut:]) if cut > 0 else (b"", data)
                if body:
                    self._read(body, item, prefix)
                if not piece:
                    break
                if len(carry) > _MAX_BUFFER:
                    raise UnreadableFile("the workbook's shared strings cannot be read: open it in Excel and save "
                                         "it again")

    def _read(self, body: bytes, item: bytes, prefix: bytes) -> None:
        matches = _SST_ITEM.findall(body) if not prefix else []
        if not prefix and len(matches) == body.count(item) and _SST_END.fullmatch(_SST_ITEM.sub(b"", body)):
            self.strings.extend(_string_item(content) if content else "" for content, _ in matches)
            return
        reader = _ItemReader()
        parser = _parser()
        parser.StartElementHandler = reader.start
        parser.EndElementHandler = reader.end
        parser.CharacterDataHandler = reader.text
        end = _SST_CLOSE.search(body)
        _parse(parser, b"<sst>" + (body[:end.start()] if end else body) + b"</sst>", "the shared strings table")
        self.strings.extend(reader.items)

    def get(self, index: int) -> str:
        try:
            return self.strings[index]
        except IndexError:
            raise UnreadableFile("the workbook cannot be read (a cell's string is not in the shared strings "
                                 "table): open it in Excel and save it again") from None


class _ItemReader:
    """pyexpat handlers collecting each `<si>` of a piece of the table as calamine reads it."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._item: _StringItem | None = None

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        local = tag.rpartition(":")[2]
        if self._item is not None:
            self._item.start(local, attributes)
        elif local == "si":
            self._item = _StringItem()

    def text(self, data: str) -> None:
        if self._item is not None:
            self._item.text(data)

    def end(self, tag: str) -> None:
        local = tag.rpartition(":")[2]
        if self._item is None:
            return
        if local == "si":
            self.items.append(self._item.value())
            self._item = None
        else:
            self._item.end(local)


def _refuse_declarations(prolog: bytes) -> None:
    """What precedes the data may not declare a DTD or entities (as defusedxml refuses them)."""
    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
        raise UnsafeFile("the workbook declares XML entities or a DTD")


def _check_encoding(prefix: bytes, name: str) -> None:
    match = _ENCODING.match(prefix)
    if match and match.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise UnreadableFile(f"the workbook's part {name} is not UTF-8 ({match.group(1).decode(errors='replace')}):"
                             f" open it in Excel and save it again")


class SheetStream:
    """Iterate `(row number, cells)` of one sheet part from its start; blank rows included (as []-like lists)."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, strings: Callable[[], SharedStringTable],
                 styles: Callable[[], _Styles], *, max_columns: int = DEFAULT_MAX_COLUMNS) -> None:
        self._archive = archive
        self._info = info
        self._strings = strings
        self._styles = styles
        self._max_columns = max_columns
        self._columns: dict[bytes, int] = {}
        self._date_styles: set[bytes] | None = None
        self._converted: dict[tuple[bytes, bytes], object] = {}
        self._width = 0
        self.dropped_cells = 0

    def rows(self, start_after: int = 0) -> Iterator[Row]:
        last = 0
        for number, cells in self._pieces_rows(start_after):
            if number <= last:
                raise UnreadableFile(f"the workbook cannot be read (row {number} comes after row {last}): open it "
                                     f"in Excel and save it again")
            last = number
            if number > start_after:
                yield number, cells

    def _pieces_rows(self, start_after: int) -> Iterator[Row]:
        state = _SlowState()
        with self._archive.open(self._info) as stream:
            for piece in self._pieces(stream):
                if start_after and (tail := piece.rfind(b'<row r="')) >= 0:
                    found = _ROW_NUMBER.match(piece, tail)
                    if found and int(found.group(1)) <= start_after:
                        state.next_row = int(found.group(1))  # a slow piece after it counts rows on from here
                        continue
                cells = _FAST_CELL.findall(piece)
                if b":c " not in piece and b":c>" not in piece and (
                        len(cells) == piece.count(b"<c") or len(cells) == sum(piece.count(tag) for tag in _CELL_TAGS)):
                    rows = self._fast_rows(cells)
                    if rows:
                        state.next_row = rows[-1][0]
                    yield from rows
                else:
                    yield from self._slow_rows(piece, state)

    def _pieces(self, stream: IO[bytes]) -> Iterator[bytes]:
        """Pieces of the sheet data holding whole rows (each cut before a `<row`)."""
        first = stream.read(_PIECE)
        _check_encoding(first[:256], self._info.filename)
        start = _SHEET_DATA.search(first)
        _refuse_declarations(first[:start.start()] if start else first)
        buffer = first[start.end():] if start else first
        row_tag = b"<" + (start.group(1) or b"" if start else b"") + b"row"
        ended = start is None
        while True:
            if end := _SHEET_DATA_END.search(buffer):
                buffer, ended = buffer[:end.start()], True
            if ended:
                if buffer.strip():
                    yield buffer
                return
            piece = stream.read(_PIECE)
            if not piece:
                ended = True
                continue
            buffer += piece
            cut = max(buffer.rfind(row_tag + b" "), buffer.rfind(row_tag + b">"))
            if cut > 0:
                yield buffer[:cut]
                buffer = buffer[cut:]
            elif len(buffer) > _MAX_BUFFER:
                raise UnreadableFile("a row of the workbook is too long to read: open it in Excel and save it again")

    def _column(self, letters: bytes) -> int:
        index = 0
        for letter in letters:
            index = index * 26 + letter - 64
        self._columns[letters] = index - 1
        return index - 1

    def _fast_rows(self, cells: list[tuple[bytes, ...]]) -> list[Row]:
        """Rows from the fast form's cells; the common cases inline (this loop runs once per cell)."""
        rows: list[Row] = []
        columns = self._columns
        limit = self._max_columns
        dates = self._dates()
        converted = self._converted
        current = b""
        row: list[object] = []
        width = self._width  # rows start as wide as the widest so far: one allocation, no growing
        value: object
        for letters, number, style, kind, v, text, inline in cells:
            if number != current:
                if len(row) > width:
                    width = len(row)
                current = number
                row = [None] * width
                rows.append((int(number), row))
            column = columns.get(letters)
            if column is None:
                column = self._column(letters)
            if column >= limit:
                self.dropped_cells += 1
                continue
            if kind == b"inlineStr" and text:
                value = text.decode()
                if "&" in value:
                    value = html.unescape(value)
                value = value.strip(" \t\r\n")
                if "_x" in value:
                    value = _unescape(value)
                if not value:
                    continue
            elif v and (not kind or kind == b"n"):
                if style in dates:
                    key = (v, style)
                    value = converted.get(key, _EMPTY)
                    if value is _EMPTY:
                        if len(converted) > _DATE_CACHE_LIMIT:
                            converted.clear()
                        value = converted[key] = self._value(style, kind, v, inline)
                elif v[0] > 32 and v[-1] > 32 and b"_" not in v:  # float() would also take " 12" and "1_2"
                    try:
                        value = float(v)
                    except ValueError:
                        value = self._value(style, kind, v, inline)
                else:
                    value = self._value(style, kind, v, inline)
            else:
                value = self._value(style, kind, v, inline)
                if value is _EMPTY:
                    continue
            if column >= len(row):
                row.extend([None] * (column + 1 - len(row)))
            row[column] = value
        self._width = max(width, len(row))
        return rows

    def _value(self, style: bytes, kind: bytes, v: bytes, inline: bytes, *, escaped: bool = True) -> object:
        if not kind or kind == b"n":
            if not v:
                return _EMPTY
            try:
                if not _FLOAT.fullmatch(v):
                    raise ValueError(v)
                number = float(v)
            except ValueError:
                if kind:
                    raise UnreadableFile(f"the workbook cannot be read (the number cell {v[:40]!r}): open it in "
                                         f"Excel and save it again") from None
                return _text(v, escaped=escaped)
            if style and style in self._dates():
                return _blank(self._styles().convert(_Number(number, style.decode())))
            return number
        if kind == b"s":
            return _blank(self._strings().get(int(v) if v.isdigit() else 0)) if v else _EMPTY
        if kind == b"inlineStr":
            return _blank(_string_item(inline)) if inline else _EMPTY  # (the plain `<t>` form is read inline)
        if kind == b"str":
            return _blank(_text(v, escaped=escaped))
        if kind == b"b":
            flag = v.strip().lower()
            if flag in (b"0", b"false", b"1", b"true"):
                return flag in (b"1", b"true")
            raise UnreadableFile(f"the workbook cannot be read (the boolean cell {v[:40]!r}): open it in Excel and "
                                 f"save it again")
        if kind == b"e":
            return None if v else _EMPTY
        if kind == b"d":
            return _blank(_iso(_text(v, escaped=escaped)))
        raise UnreadableFile(f"the workbook cannot be read (a cell of type {kind[:20]!r}): open it in Excel and "
                             f"save it again")

    def _dates(self) -> set[bytes]:
        """The `s` values whose number format is a date or a duration (styles.xml read on first use)."""
        if self._date_styles is None:
            kinds = self._styles().kinds
            self._date_styles = {str(index).encode() for index, kind in enumerate(kinds) if kind != "other"}
        return self._date_styles

    def _slow_rows(self, piece: bytes, state: _SlowState) -> Iterator[Row]:
        """A piece in another form, by pyexpat: positions as calamine gives them (`r`, else after the last)."""
        reader = _SlowPiece(self, state)
        parser = _parser()
        parser.StartElementHandler = reader.start
        parser.EndElementHandler = reader.end
        parser.CharacterDataHandler = reader.text
        _parse(parser, b"<sheetData>" + piece + b"</sheetData>", "a sheet")
        yield from reader.rows


def _blank(value: object) -> object:
    return None if value == "" else value


class _SlowState:
    """Where a slow piece starts: the row (from 0) a `<row>` without `r` is in, the one after the last read."""

    def __init__(self) -> None:
        self.next_row = 0


class _SlowPiece:
    """pyexpat handlers placing cells as calamine does: a `<c r>` at its reference, a `<c>` without one after
    the previous cell; `<row r>` sets the current row and `</row>` moves to the next."""

    def __init__(self, stream: SheetStream, state: _SlowState) -> None:
        self._stream = stream
        self._state = state
        self.rows: list[Row] = []
        self._pending: dict[int, dict[int, object]] = {}
        self._row = state.next_row
        self._column = 0
        self._attributes: dict[str, str] | None = None
        self._v: list[str] | None = None
        self._v_text: str | None = None
        self._inline: _StringItem | None = None
        self._inline_text: str | None = None

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        local = tag.rpartition(":")[2]
        if self._inline is not None:
            self._inline.start(local, attributes)
        elif local == "row":
            reference = attributes.get("r")
            if reference is not None:
                if not reference.isdigit() or int(reference) == 0:
                    raise UnreadableFile(f"a row of the workbook has the reference {reference[:20]!r}")
                self._row = int(reference) - 1
            self._column = 0
        elif local == "c":
            self._attributes, self._v_text, self._inline_text = attributes, None, None
        elif local == "v" and self._attributes is not None:
            self._v = []
        elif local == "is" and self._attributes is not None:
            self._inline = _StringItem()
        elif local == "f" and self._attributes is not None:  # the last of <v>, <is>, <f> gives the value
            self._v_text = self._inline_text = None

    def text(self, data: str) -> None:
        if self._inline is not None:
            self._inline.text(data)
        elif self._v is not None:
            self._v.append(data)

    def end(self, tag: str) -> None:
        local = tag.rpartition(":")[2]
        if self._inline is not None and local != "is":
            self._inline.end(local)
        elif local == "is" and self._inline is not None:
            self._inline_text, self._inline = self._inline.value(), None
        elif local == "v" and self._v is not None:
            self._v_text, self._v = "".join(self._v), None
        elif local == "c" and self._attributes is not None:
            self._end_cell(self._attributes)
        elif local == "row":
            self._row += 1
            self._state.next_row = self._row
            self._flush()

    def _flush(self) -> None:
        for number in sorted(self._pending):
            cells = self._pending.pop(number)
            row: list[object] = [None] * (max(cells) + 1) if cells else []
            for column, value in cells.items():
                row[column] = value
            self.rows.append((number + 1, row))

    def _end_cell(self, attributes: dict[str, str]) -> None:
        row, column = _cell_position(attributes, self._row, self._column)
        self._column, self._attributes = column + 1, None
        kind = attributes.get("t", "")
        inline, self._inline_text = self._inline_text, None
        raw, self._v_text = self._v_text, None
        value: object
        if kind == "inlineStr":
            value = _EMPTY if inline is None else _blank(inline)
        elif raw is None:
            value = _EMPTY
        else:
            style = attributes.get("s", "")
            value = self._stream._value(style.encode() if _INDEX.fullmatch(style) else b"", kind.encode(),
                                        raw.encode(), b"", escaped=False)
        if value is _EMPTY:
            return
        if column >= self._stream._max_columns:
            self._stream.dropped_cells += 1
            return
        self._pending.setdefault(row, {})[column] = value
