"""The defences of an upload before any parser opens it: size, type, zip bombs, XML entities, macros.

`SpreadsheetInspector.inspect` reads the file's first 64 KiB and, for an xlsx, the zip central directory
plus the first 4 KiB of each member: it decompresses nothing else, so every refusal is fast whatever the
file claims to hold. What the inspector cannot see from there (cells spread over a huge area, which would
make calamine allocate gigabytes) is checked by the xlsx reader before calamine reads a sheet.
"""

from __future__ import annotations

import codecs
import re
import zipfile
import zlib
from pathlib import Path, PureWindowsPath

from defusedxml.ElementTree import fromstring as safe_fromstring  # type: ignore[import-untyped]

from adapters.spreadsheets.preview import peek_sheet
from adapters.spreadsheets.readers import open_sheet
from application.uploads.errors import FileTooLarge, UnreadableFile, UnsafeFile, UnsupportedFileType
from application.uploads.spreadsheets import CSV, XLSX, SheetPreview, SheetReader

__all__ = ["SpreadsheetInspector"]

_HEAD = 64 * 1024  # bytes read from the start of every file
_XML_PREFIX = 4096  # bytes read from the start of each zip member
_MAX_MEMBERS = 10_000  # an Excel workbook has a few dozen parts
_MAX_CONTENT_TYPES = 1 << 20
_RATIO_FLOOR = 1 << 20  # members smaller than this cannot be bombs (the total is capped anyway)

_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .doc, and password-protected (encrypted) .xlsx
_PROGRAMS = (b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",
             b"\xca\xfe\xba\xbe")  # ELF, Mach-O; the MZ of Windows programs is checked apart
_OTHER_BINARIES = {b"%PDF": "a PDF document", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
                   b"GIF8": "a GIF image", b"\x1f\x8b": "a gzip archive", b"7z\xbc\xaf": "a 7-Zip archive",
                   b"Rar!": "a RAR archive", _ZIP: "a zip archive (an .xlsx renamed .csv?)",
                   _OLE2: "an old Office document (.xls or .doc)"}

_MACRO_EXTENSIONS = {".xlsm", ".xltm", ".xlam"}
_OTHER_EXCEL = {".xls": "old Excel 97-2003 workbooks (.xls)", ".xlsb": "Excel binary workbooks (.xlsb)",
                ".xlt": "old Excel templates (.xlt)"}
_WORKBOOK_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml")
_ENTITY_DECLARATION = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_COMMENT_OR_INSTRUCTION = re.compile(r"<!--.*?-->|<\?.*?\?>", re.DOTALL)
_ROOT_START = re.compile(r"\s*<[^!?/\s]")


class SpreadsheetInspector:
    """Implements `application.uploads.spreadsheets.FileInspector` for xlsx and csv books.

    Limits: `max_bytes` of file; for an xlsx, `max_uncompressed` bytes declared by all its members
    together and a compression ratio of at most `max_ratio` for any member of 1 MiB or more.
    """

    def __init__(self, max_bytes: int = 50 * 2**20, max_uncompressed: int = 1 * 2**30, max_ratio: int = 100) -> None:
        self._max_bytes = max_bytes
        self._max_uncompressed = max_uncompressed
        self._max_ratio = max_ratio

    def inspect(self, path: Path, filename: str) -> str:
        size = path.stat().st_size
        if size > self._max_bytes:
            raise FileTooLarge(f"the file is larger than {_megabytes(self._max_bytes)} MB, the largest upload "
                               f"accepted")
        kind = _kind_from_name(filename)
        if size == 0:
            raise UnreadableFile("the file is empty")
        with path.open("rb") as handle:
            head = handle.read(_HEAD)
        if _is_program(head, kind):
            raise UnsupportedFileType(f"the file is a program, not a spreadsheet, though it is named .{kind}")
        if kind == XLSX:
            self._check_workbook(path, head)
        else:
            _check_text(head, whole=size <= _HEAD)
        return kind

    def open(self, path: Path, kind: str) -> SheetReader:
        return open_sheet(path, kind)

    def peek(self, path: Path, kind: str) -> SheetPreview:
        """The header `open` would give, a row estimate and its warnings, without loading the sheet: a few
        milliseconds for a 100,000-row xlsx, a few tenths of a second at worst (`adapters.spreadsheets.preview`),
        one counting pass for a csv."""
        return peek_sheet(path, kind)

    def _check_workbook(self, path: Path, head: bytes) -> None:
        if head.startswith(_OLE2):
            raise UnsupportedFileType("the file is a password-protected workbook or an old .xls renamed .xlsx: "
                                      "remove the password, or save it as .xlsx (Excel Workbook)")
        if not head.startswith(_ZIP):
            what = ("holds text (a CSV renamed .xlsx? name it .csv)" if _is_text(head, whole=False)
                    else "is not an Excel workbook")
            raise UnsupportedFileType(f"the file is named .xlsx but {what}")
        try:
            with zipfile.ZipFile(path) as archive:
                members = archive.infolist()
                self._check_members(members)
                _check_content_types(archive, members)
                for info in members:
                    _check_xml_prefix(archive, info)
        except zipfile.BadZipFile as error:
            raise UnreadableFile(f"the workbook is damaged ({error}): open it in Excel and save it again") \
                from error
        except (zlib.error, EOFError, OSError, RuntimeError, NotImplementedError) as error:
            raise UnreadableFile(f"a part of the workbook cannot be read ({error}): open it in Excel and save "
                                 f"it again") from error

    def _check_members(self, members: list[zipfile.ZipInfo]) -> None:
        """Everything the central directory tells without decompressing: counts, sizes, ratios, macros."""
        if len(members) > _MAX_MEMBERS:
            raise UnsafeFile(f"the workbook is a zip of {len(members):,} parts; Excel writes a few dozen")
        names = [info.filename.lower() for info in members]
        if "[content_types].xml" not in names:
            raise UnsupportedFileType("the file is a zip archive, not an Excel workbook")
        if len(set(names)) != len(names):
            raise UnsafeFile("the workbook holds two parts of the same name")
        if any(name.rsplit("/", 1)[-1] == "vbaproject.bin" for name in names):
            raise UnsafeFile("the workbook contains macros (a VBA project): save it as .xlsx without macros")
        if any(info.flag_bits & 0x1 for info in members):
            raise UnsafeFile("the workbook has encrypted parts")
        if any(info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for info in members):
            raise UnsupportedFileType("the workbook's parts are compressed in a way Excel does not write: open "
                                      "it in Excel and save it again")
        total = sum(info.file_size for info in members)
        if total > self._max_uncompressed:
            raise UnsafeFile(f"the workbook would expand to {_megabytes(total)} MB, more than "
                             f"{_megabytes(self._max_uncompressed)} MB (a zip bomb?)")
        for info in members:
            if info.file_size >= _RATIO_FLOOR and info.file_size > self._max_ratio * max(info.compress_size, 1):
                raise UnsafeFile(f"a part of the workbook is compressed more than {self._max_ratio}:1 "
                                 f"({info.file_size:,} bytes from {info.compress_size:,}): a zip bomb?")
            # deflate never grows data by more than a few bytes per 16 KiB: larger means a lying size
            if info.compress_size > info.file_size + info.file_size // 100 + 1024:
                raise UnsafeFile("a part of the workbook declares a size smaller than its compressed data")


def _megabytes(size: int) -> str:
    return f"{size / 2**20:,.0f}" if size >= 2**20 else f"{size / 2**20:.2g}"


def _kind_from_name(filename: str) -> str:
    suffix = PureWindowsPath(filename.strip().rstrip(".")).suffix.lower()  # browsers may send C:\fakepath\x
    if suffix == ".xlsx":
        return XLSX
    if suffix == ".csv":
        return CSV
    if suffix in _MACRO_EXTENSIONS:
        raise UnsafeFile(f"macro-enabled workbooks ({suffix}) are refused: save the book as .xlsx (Excel "
                         f"Workbook) or .csv")
    if suffix in _OTHER_EXCEL:
        raise UnsupportedFileType(f"{_OTHER_EXCEL[suffix]} are not supported: save the book as .xlsx or .csv")
    shown = f"{suffix} files" if suffix else "files without an extension"
    raise UnsupportedFileType(f"only .xlsx and .csv files can be uploaded, not {shown}")


def _is_program(head: bytes, kind: str) -> bool:
    if head.startswith(_PROGRAMS):
        return True
    # "MZ" could begin a text line; a Windows program has NUL bytes in its 64-byte DOS header
    return head.startswith(b"MZ") and (kind == XLSX or b"\x00" in head[:64])


def _decodes(data: bytes, encoding: str, final: bool) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final)
    except UnicodeDecodeError:
        return False
    return True


def _is_text(head: bytes, *, whole: bool) -> bool:
    """No NUL byte, and decodes as UTF-8 (BOM or not) or Windows-1252 (a character cut at the end is fine)."""
    return b"\x00" not in head and (_decodes(head, "utf-8-sig", whole) or _decodes(head, "cp1252", whole))


def _check_text(head: bytes, *, whole: bool) -> None:
    for magic, what in _OTHER_BINARIES.items():
        if head.startswith(magic):
            raise UnsupportedFileType(f"the file is named .csv but is {what}")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnsupportedFileType('the file is UTF-16 text (Excel\'s "Unicode Text"): save it as "CSV UTF-8"')
    if not _is_text(head, whole=whole):
        raise UnsupportedFileType("the file is named .csv but is not text in UTF-8 or Windows-1252")


def _check_content_types(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> None:
    """[Content_Types].xml (parsed with defusedxml) must name a workbook, and no macro-enabled part."""
    info = next(info for info in members if info.filename.lower() == "[content_types].xml")
    if info.file_size > _MAX_CONTENT_TYPES:
        raise UnsafeFile("the workbook's list of content types is implausibly large")
    _check_xml_prefix(archive, info)
    try:
        root = safe_fromstring(archive.read(info), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except ValueError as error:  # defusedxml's DTDForbidden / EntitiesForbidden / ExternalReferenceForbidden
        raise UnsafeFile("the workbook's list of content types declares XML entities") from error
    except SyntaxError as error:  # ParseError
        raise UnreadableFile(f"the workbook's list of content types is damaged ({error})") from error
    types = [str(element.get("ContentType", "")).lower() for element in root.iter()
             if str(element.tag).rpartition("}")[2] in ("Default", "Override")]
    if any("macro" in content_type or "vbaproject" in content_type for content_type in types):
        raise UnsafeFile("the workbook contains macros (a macro-enabled part): save it as .xlsx without macros")
    if not any(content_type in _WORKBOOK_TYPES for content_type in types):
        raise UnsupportedFileType("the file is named .xlsx but is not an Excel workbook (a Word or PowerPoint "
                                  "file renamed?)")


def _check_xml_prefix(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse an XML member that declares a DOCTYPE or ENTITY (billion laughs, external entities), or whose
    root element does not start within its first 4 KiB (a declaration could hide after a long prolog).
    Only the first 4 KiB are decompressed; members that are not XML (images, binaries) pass."""
    if info.file_size == 0 or info.is_dir():
        return
    with archive.open(info) as stream:
        prefix = stream.read(_XML_PREFIX)
    text = _xml_text(prefix)
    if text is None:
        return
    if _ENTITY_DECLARATION.search(text):
        raise UnsafeFile(f"the workbook's part {info.filename} declares XML entities (DOCTYPE/ENTITY)")
    if _ROOT_START.match(_COMMENT_OR_INSTRUCTION.sub("", text)) is None and len(prefix) == _XML_PREFIX:
        raise UnsafeFile(f"the workbook's part {info.filename} has an XML prolog longer than 4 KiB")


def _xml_text(prefix: bytes) -> str | None:
    """The prefix as text when it looks like XML (UTF-8, or UTF-16 with or without BOM), else None."""
    if prefix.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = prefix.decode("utf-16", errors="replace")
    elif prefix[:1] == b"\x00" or prefix[1:2] == b"\x00":
        text = prefix.decode("utf-16-be" if prefix[:1] == b"\x00" else "utf-16-le", errors="replace")
    else:
        text = prefix.decode("utf-8", errors="replace")
    text = text.lstrip("\ufeff")
    return text if text.lstrip().startswith("<") else None
