"""The upload inspector against a hostile corpus generated here (nothing binary is committed).

Every refusal must come from the file's first bytes and the zip directory: the zip bomb test proves it by
forbidding any member to be opened.
"""

from __future__ import annotations

import warnings
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from adapters.spreadsheets.inspection import SpreadsheetInspector
from application.uploads.errors import FileRefused, FileTooLarge, UnreadableFile, UnsafeFile, UnsupportedFileType

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
WORKBOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
SHEET = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN_NS}"><sheetData>'
         '<row r="1"><c r="A1" t="inlineStr"><is><t>policy_number</t></is></c></row>'
         '<row r="2"><c r="A2" t="inlineStr"><is><t>POL-1</t></is></c></row></sheetData></worksheet>')
BILLION_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
                  + "".join(f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">\n'
                            for i in range(1, 10))
                  + f']>\n<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is>'
                    '<t>&lol9;</t></is></c></row></sheetData></worksheet>')


def content_types(main: str = WORKBOOK_TYPE, extra: str = "") -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{main}"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            f'officedocument.spreadsheetml.worksheet+xml"/>{extra}</Types>')


def package(path: Path, *, sheet: str = SHEET, types: str | None = None, extra: dict[str, bytes] | None = None) -> Path:
    """A minimal xlsx written member by member, so any member can be made hostile."""
    members = {
        "[Content_Types].xml": (types or content_types()).encode(),
        "_rels/.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                       b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                       b'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                       b"</Relationships>",
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{MAIN_NS}" xmlns:r="http://schemas.'
                           'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Policies" '
                           'sheetId="1" r:id="rId1"/></sheets></workbook>'.encode(),
        "xl/_rels/workbook.xml.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.'
                                      b'org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
                                      b'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                                      b'Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet.encode(),
        **(extra or {}),
    }
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")  # a duplicate name is on purpose
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def mark_encrypted(path: Path, member: str) -> Path:
    """Set the "encrypted" flag of a member in its local header and central directory entry (zipfile cannot
    write encrypted members)."""
    data = bytearray(path.read_bytes())
    start = data.find(b"PK\x01\x02")
    while start >= 0:
        name_length = int.from_bytes(data[start + 28:start + 30], "little")
        if data[start + 46:start + 46 + name_length].decode() == member:
            data[start + 8] |= 0x1
            local = int.from_bytes(data[start + 42:start + 46], "little")
            data[local + 6] |= 0x1
        start = data.find(b"PK\x01\x02", start + 46)
    path.write_bytes(bytes(data))
    return path


def openpyxl_book(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["policy_number", "first_name", "start_date", "premium_amount"])
    sheet.append(["POL-1", "Asha", date(2026, 1, 1), 12500.5])
    book.save(path)
    return path


@pytest.fixture
def inspector() -> SpreadsheetInspector:
    return SpreadsheetInspector()


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid xlsx whose sheet declares 200 MB of zeros compressed about 1000:1 (the file is ~200 KB),
    streamed through zipfile so the test never holds the 200 MB."""
    path = package(tmp_path_factory.mktemp("bomb") / "book.xlsx")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as archive, \
            archive.open("xl/worksheets/sheet2.xml", "w") as member:
        zeros = bytes(1 << 20)
        for _ in range(200):
            member.write(zeros)
    return path


def refused(inspector: SpreadsheetInspector, path: Path, name: str | None = None) -> FileRefused:
    with pytest.raises(FileRefused) as caught:
        inspector.inspect(path, name or path.name)
    return caught.value


# --- accepted ---------------------------------------------------------------------------------------------

def test_an_excel_workbook_is_xlsx(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    assert inspector.inspect(openpyxl_book(tmp_path / "book.xlsx"), "Book.XLSX") == "xlsx"
    assert inspector.inspect(package(tmp_path / "crafted.xlsx"), "crafted.xlsx") == "xlsx"


def test_text_named_csv_is_csv_in_utf8_with_or_without_bom_and_in_windows_1252(
        inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    for name, data in {"plain.csv": b"policy_number,city\nPOL-1,Pune\n",
                       "bom.csv": "\ufeffpolicy_number,city\nPOL-1,Pune\n".encode(),
                       "ansi.csv": "policy_number;city\nPOL-1;Orléans\n".encode("cp1252"),
                       "mz.csv": b"MZ code,city\nA,Pune\n"}.items():
        (tmp_path / name).write_bytes(data)
        assert inspector.inspect(tmp_path / name, name) == "csv"


def test_a_browser_path_in_the_filename_is_ignored(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    (tmp_path / "upload").write_bytes(b"a,b\n1,2\n")
    assert inspector.inspect(tmp_path / "upload", "C:\\fakepath\\book.csv") == "csv"


# --- size and emptiness -------------------------------------------------------------------------------------

def test_a_60_mb_file_is_too_large_before_anything_is_read(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    path = tmp_path / "huge.xlsx"
    with path.open("wb") as handle:
        handle.truncate(60 * 2**20)  # sparse: instant, takes no disk
    error = refused(inspector, path)
    assert isinstance(error, FileTooLarge)
    assert "50 MB" in str(error)
    assert error.status == 413


def test_the_limit_is_configurable(tmp_path: Path) -> None:
    path = openpyxl_book(tmp_path / "book.xlsx")
    assert isinstance(refused(SpreadsheetInspector(max_bytes=1000), path), FileTooLarge)


@pytest.mark.parametrize("name", ["empty.xlsx", "empty.csv"])
def test_an_empty_file_is_unreadable(inspector: SpreadsheetInspector, tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"")
    error = refused(inspector, tmp_path / name)
    assert isinstance(error, UnreadableFile)
    assert str(error) == "the file is empty"


# --- extension and content ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "kind"), [
    ("book.xls", UnsupportedFileType), ("book.xlsb", UnsupportedFileType), ("book.pdf", UnsupportedFileType),
    ("book.ods", UnsupportedFileType), ("book", UnsupportedFileType), ("book.xlsm", UnsafeFile),
    ("book.XLTM", UnsafeFile), ("book.xlam", UnsafeFile),
])
def test_only_xlsx_and_csv_names_are_accepted(inspector: SpreadsheetInspector, tmp_path: Path, name: str,
                                              kind: type[Exception]) -> None:
    path = openpyxl_book(tmp_path / "book.xlsx")
    error = refused(inspector, path, name)
    assert type(error) is kind
    if kind is UnsafeFile:
        assert "macro" in str(error) and error.code == "unsafe_file"


def test_a_renamed_windows_program_is_refused(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(48) + b"This program..."
    for name in ("invoice.xlsx", "invoice.csv"):
        (tmp_path / name).write_bytes(program)
        error = refused(inspector, tmp_path / name)
        assert isinstance(error, UnsupportedFileType)
        assert "program" in str(error)


def test_a_renamed_linux_program_is_refused(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    (tmp_path / "book.csv").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(57) + b"payload")
    error = refused(inspector, tmp_path / "book.csv")
    assert isinstance(error, UnsupportedFileType)
    assert error.status == 415


def test_a_csv_named_xlsx_is_refused_with_a_hint(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    (tmp_path / "book.xlsx").write_text("policy_number,first_name\nPOL-1,Asha\n")
    error = refused(inspector, tmp_path / "book.xlsx")
    assert isinstance(error, UnsupportedFileType)
    assert ".csv" in str(error)


def test_an_xlsx_named_csv_is_refused(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    path = openpyxl_book(tmp_path / "book.xlsx")
    error = refused(inspector, path, "book.csv")
    assert isinstance(error, UnsupportedFileType)
    assert "zip" in str(error)


@pytest.mark.parametrize(("data", "words"), [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
    ("policy_number,city\n".encode("utf-16"), "UTF-16"),
    (b"policy_number,city\n\x00\x01\x02binary", "not text"),
    (b"\x81\x8d\x8f\x90\x9d" * 10 + b"\xff\xfe\xfd", "not text"),
])
def test_a_csv_must_be_text(inspector: SpreadsheetInspector, tmp_path: Path, data: bytes, words: str) -> None:
    (tmp_path / "book.csv").write_bytes(data)
    error = refused(inspector, tmp_path / "book.csv")
    assert isinstance(error, UnsupportedFileType)
    assert words in str(error)


def test_an_encrypted_or_old_binary_workbook_is_refused(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    (tmp_path / "book.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    error = refused(inspector, tmp_path / "book.xlsx")
    assert isinstance(error, UnsupportedFileType)
    assert "password" in str(error)


def test_a_word_document_named_xlsx_is_refused(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    types = content_types("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")
    error = refused(inspector, package(tmp_path / "book.xlsx", types=types))
    assert isinstance(error, UnsupportedFileType)
    assert "not an Excel workbook" in str(error)


def test_a_plain_zip_named_xlsx_is_refused(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "book.xlsx", "w") as archive:
        archive.writestr("policies.csv", "a,b\n1,2\n")
    assert isinstance(refused(inspector, tmp_path / "book.xlsx"), UnsupportedFileType)


def test_a_truncated_workbook_is_unreadable(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    whole = openpyxl_book(tmp_path / "whole.xlsx").read_bytes()
    (tmp_path / "book.xlsx").write_bytes(whole[: len(whole) // 2])
    assert isinstance(refused(inspector, tmp_path / "book.xlsx"), UnreadableFile)


# --- zip bombs ------------------------------------------------------------------------------------------

def test_a_zip_bomb_is_refused_from_the_directory_alone(inspector: SpreadsheetInspector, zip_bomb: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert zip_bomb.stat().st_size < 1_000_000

    def no_decompression(*args: object, **kwargs: object) -> None:
        raise AssertionError("the inspector opened a zip member")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_decompression)
    error = refused(inspector, zip_bomb)
    assert isinstance(error, UnsafeFile)
    assert "100:1" in str(error)
    assert error.code == "unsafe_file"


def test_the_total_declared_size_is_capped(tmp_path: Path) -> None:
    path = package(tmp_path / "book.xlsx", extra={"xl/media/padding.bin": bytes(range(256)) * 8192})  # 2 MiB
    error = refused(SpreadsheetInspector(max_uncompressed=2**20), path)
    assert isinstance(error, UnsafeFile)
    assert "zip bomb" in str(error)


def test_a_member_compressed_more_than_the_ratio_is_refused(tmp_path: Path) -> None:
    path = package(tmp_path / "book.xlsx", extra={"xl/media/zeros.bin": bytes(4 << 20)})
    assert isinstance(refused(SpreadsheetInspector(max_ratio=100), path), UnsafeFile)
    assert SpreadsheetInspector(max_ratio=2000).inspect(path, "book.xlsx") == "xlsx"


def test_too_many_members_are_refused(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    path = package(tmp_path / "book.xlsx", extra={f"xl/media/{i}.bin": b"" for i in range(10_001)})
    assert isinstance(refused(inspector, path), UnsafeFile)


def test_two_members_of_one_name_are_refused(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    path = package(tmp_path / "book.xlsx", extra={"XL/worksheets/SHEET1.xml": SHEET.encode()})
    error = refused(inspector, path)
    assert isinstance(error, UnsafeFile)
    assert "same name" in str(error)


def test_encrypted_members_are_refused(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    error = refused(inspector, mark_encrypted(package(tmp_path / "book.xlsx"), "xl/worksheets/sheet1.xml"))
    assert isinstance(error, UnsafeFile)
    assert "encrypted" in str(error)


# --- XML entities ------------------------------------------------------------------------------------------

def test_billion_laughs_in_a_sheet_is_refused(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    error = refused(inspector, package(tmp_path / "book.xlsx", sheet=BILLION_LAUGHS))
    assert isinstance(error, UnsafeFile)
    assert "sheet1.xml" in str(error) and "DOCTYPE" in str(error)


def test_an_entity_in_the_content_types_is_refused(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    types = content_types().replace("<Types", '<!DOCTYPE Types [<!ENTITY x SYSTEM "file:///etc/passwd">]><Types')
    assert isinstance(refused(inspector, package(tmp_path / "book.xlsx", types=types)), UnsafeFile)


def test_an_entity_in_utf16_is_refused(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    sheet = BILLION_LAUGHS.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    path = package(tmp_path / "book.xlsx", extra={"xl/worksheets/sheet2.xml": sheet.encode("utf-16")})
    assert isinstance(refused(inspector, path), UnsafeFile)


def test_a_doctype_hidden_after_a_long_prolog_is_refused(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    sheet = BILLION_LAUGHS.replace('<?xml version="1.0"?>\n', f'<?xml version="1.0"?>\n<!--{" " * 5000}-->\n')
    error = refused(inspector, package(tmp_path / "book.xlsx", sheet=sheet))
    assert isinstance(error, UnsafeFile)
    assert "prolog" in str(error)


def test_a_harmless_prolog_comment_is_accepted(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    sheet = SHEET.replace("<worksheet", "<!-- written by a tool --><worksheet")
    assert inspector.inspect(package(tmp_path / "book.xlsx", sheet=sheet), "book.xlsx") == "xlsx"


# --- macros -------------------------------------------------------------------------------------------------

def test_a_vba_project_in_an_xlsx_is_refused(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    path = package(tmp_path / "book.xlsx", extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 macro"})
    error = refused(inspector, path)
    assert isinstance(error, UnsafeFile)
    assert "macros" in str(error)


def test_a_macro_enabled_content_type_is_refused(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    types = content_types("application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    error = refused(inspector, package(tmp_path / "book.xlsx", types=types))
    assert isinstance(error, UnsafeFile)
    assert "macro" in str(error)


def test_an_xlsm_is_refused_by_its_name_before_its_content(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    path = package(tmp_path / "book.xlsm", extra={"xl/vbaProject.bin": b"macro"},
                   types=content_types("application/vnd.ms-excel.sheet.macroEnabled.main+xml"))
    error = refused(inspector, path)
    assert isinstance(error, UnsafeFile)
    assert ".xlsm" in str(error)


def test_open_reads_the_inspected_sheet(inspector: SpreadsheetInspector, tmp_path: Path) -> None:
    path = package(tmp_path / "book.xlsx")
    reader = inspector.open(path, inspector.inspect(path, "book.xlsx"))
    try:
        assert reader.header == ["policy_number"]
        assert list(reader.rows()) == [(2, ["POL-1"])]
    finally:
        reader.close()
