"""The csv and xlsx readers, on files generated here: typed cells, merged cells, formulas, several sheets,
encodings, delimiters, resuming; the streaming xlsx reader against python-calamine on random sheets."""

from __future__ import annotations

import itertools
import random
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
import python_calamine

from adapters.spreadsheets.readers import CsvSheetReader, open_sheet
from adapters.spreadsheets.xlsx_reader import XlsxSheetReader
from adapters.spreadsheets.xlsx_stream import SheetStream
from application.uploads.errors import UnreadableFile, UnsafeFile

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def csv_file(tmp_path: Path, data: bytes | str, name: str = "book.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def package(path: Path, sheets: dict[str, str], *, dimension: str | None = None, prolog: str = "") -> Path:
    """An xlsx written member by member; each sheet's value is the inside of its <sheetData>."""
    names = list(sheets)
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.'
                        f'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                        for i in range(1, len(names) + 1))
    members = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                               'content-types"><Default Extension="rels" ContentType="application/vnd.'
                               'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
                               'application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
                               'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                               f"{overrides}</Types>",
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                       'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                       'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>'
                           + "".join(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>'
                                     for i, name in enumerate(names, 1)) + "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                                      'package/2006/relationships">'
                                      + "".join(f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" '
                                                f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(names) + 1))
                                      + "</Relationships>",
    }
    for i, data in enumerate(sheets.values(), 1):
        head = f'<dimension ref="{dimension}"/>' if dimension else ""
        members[f"xl/worksheets/sheet{i}.xml"] = (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet '
                                                  f'xmlns="{MAIN_NS}">{head}<sheetData>{data}</sheetData></worksheet>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def text(ref: str, value: str = "x") -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def read_all(path: Path, kind: str, start_after: int = 0) -> list[tuple[int, list[object]]]:
    reader = open_sheet(path, kind)
    try:
        return list(reader.rows(start_after))
    finally:
        reader.close()


# --- csv --------------------------------------------------------------------------------------------------

def test_csv_rows_are_text_with_none_for_empty_cells(tmp_path: Path) -> None:
    path = csv_file(tmp_path, 'policy_number,premium_amount,notes\nPOL-1,12500.50,\nPOL-2,,"=SUM(A1:A2)"\n')
    reader = open_sheet(path, "csv")
    try:
        assert isinstance(reader, CsvSheetReader)
        assert (reader.kind, reader.delimiter, reader.encoding) == ("csv", ",", "utf-8")
        assert (reader.header_row, reader.header) == (1, ["policy_number", "premium_amount", "notes"])
        assert reader.estimated_rows == 2
        assert reader.warnings == []
        assert list(reader.rows()) == [(2, ["POL-1", "12500.50", None]), (3, ["POL-2", None, "=SUM(A1:A2)"])]
    finally:
        reader.close()


@pytest.mark.parametrize(("data", "delimiter"), [
    ("policy_number;premium_amount;city\nPOL-1;12500,50;Pune\nPOL-2;9000,00;Mumbai, West\n", ";"),
    ("policy_number\tpremium_amount\tcity\nPOL-1\t12500.50\tPune\nPOL-2\t9000\tMumbai\n", "\t"),
    ("policy_number|premium_amount|city\nPOL-1|12500.50|Pune\nPOL-2|9000|Mumbai\n", "|"),
    ('policy_number,premium_amount,city\nPOL-1,"12,500.50","Pune; MH"\nPOL-2,9000,Mumbai\n', ","),
])
def test_csv_delimiter_is_detected(tmp_path: Path, data: str, delimiter: str) -> None:
    reader = open_sheet(csv_file(tmp_path, data), "csv")
    try:
        assert isinstance(reader, CsvSheetReader)
        assert reader.delimiter == delimiter
        assert reader.header == ["policy_number", "premium_amount", "city"]
        assert [len(cells) for _, cells in reader.rows()] == [3, 3]
    finally:
        reader.close()


def test_csv_with_a_bom_loses_it(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "\ufeffpolicy_number,city\r\nPOL-1,Pune\r\n".encode())
    reader = open_sheet(path, "csv")
    try:
        assert isinstance(reader, CsvSheetReader)
        assert reader.encoding == "utf-8-sig"
        assert reader.header == ["policy_number", "city"]
        assert list(reader.rows()) == [(2, ["POL-1", "Pune"])]
    finally:
        reader.close()


def test_windows_1252_csv_is_decoded(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "first_name;city\nRené;Orléans\n".encode("cp1252"))
    assert read_all(path, "csv") == [(2, ["René", "Orléans"])]


def test_windows_1252_after_64_kib_of_ascii_is_still_windows_1252(tmp_path: Path) -> None:
    rows = "".join(f"POL-{i:06d},Pune\n" for i in range(6000))  # ~100 KB of ASCII
    path = csv_file(tmp_path, f"policy_number,city\n{rows}POL-X,Orléans\n".encode("cp1252"))
    reader = open_sheet(path, "csv")
    try:
        assert isinstance(reader, CsvSheetReader)
        assert reader.encoding == "cp1252"
        assert reader.warnings == []
        assert list(reader.rows())[-1] == (6002, ["POL-X", "Orléans"])
    finally:
        reader.close()


def test_a_stray_invalid_byte_after_utf8_text_is_replaced_with_a_warning(tmp_path: Path) -> None:
    rows = "".join(f"Asha,Pune{i}\n" for i in range(6000))  # the UTF-8 "é" is in the first 64 KiB, the byte after
    path = csv_file(tmp_path, f"first_name,city\nRené,Pune\n{rows}".encode() + b"Ana,Lim\xffa\n")
    reader = open_sheet(path, "csv")
    try:
        assert isinstance(reader, CsvSheetReader)
        assert reader.encoding == "utf-8"
        assert len(reader.warnings) == 1 and "UTF-8" in reader.warnings[0]
        read = list(reader.rows())
        assert read[0] == (2, ["René", "Pune"])
        assert read[-1] == (6003, ["Ana", "Lim\N{REPLACEMENT CHARACTER}a"])
    finally:
        reader.close()


def test_csv_rows_are_numbered_by_record_and_blank_rows_skipped(tmp_path: Path) -> None:
    path = csv_file(tmp_path, '\n\npolicy_number,notes\nPOL-1,"two\nlines"\n\n , \nPOL-2,x\n')
    reader = open_sheet(path, "csv")
    try:
        assert reader.header_row == 3
        assert list(reader.rows()) == [(4, ["POL-1", "two\nlines"]), (7, ["POL-2", "x"])]
    finally:
        reader.close()


def test_csv_with_old_mac_line_ends(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "policy_number,city\rPOL-1,Pune\rPOL-2,Goa")
    reader = open_sheet(path, "csv")
    try:
        assert reader.estimated_rows == 2
        assert list(reader.rows()) == [(2, ["POL-1", "Pune"]), (3, ["POL-2", "Goa"])]
    finally:
        reader.close()


def test_csv_resumes_after_a_checkpoint(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "n\n" + "".join(f"{i}\n" for i in range(2, 1002)))
    reader = open_sheet(path, "csv")
    try:
        assert reader.estimated_rows == 1000
        resumed = list(reader.rows(start_after=997))
        assert resumed == [(998, ["998"]), (999, ["999"]), (1000, ["1000"]), (1001, ["1001"])]
        assert next(iter(reader.rows(start_after=0))) == (2, ["2"])  # a new pass each call
    finally:
        reader.close()


def test_csv_header_only_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="the file has a header but no rows"):
        open_sheet(csv_file(tmp_path, "policy_number,first_name\n\n ,\n"), "csv")


def test_csv_without_a_header_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="no header"):
        open_sheet(csv_file(tmp_path, "\n , \n,,\n"), "csv")


def test_a_damaged_csv_row_stops_reading_with_its_number(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "a,b\n1,2\n" + '3,"' + "x" * 200_000 + '"\n')
    reader = open_sheet(path, "csv")
    try:
        rows = reader.rows()
        assert next(rows) == (2, ["1", "2"])
        with pytest.raises(UnreadableFile, match="row 3"):
            next(rows)
    finally:
        reader.close()


def test_closing_a_reader_closes_its_passes(tmp_path: Path) -> None:
    reader = open_sheet(csv_file(tmp_path, "a\n1\n2\n"), "csv")
    rows = reader.rows()
    assert next(rows) == (2, ["1"])
    reader.close()
    assert list(rows) == []


def test_an_unknown_kind_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ods"):
        open_sheet(csv_file(tmp_path, "a\n1\n"), "ods")


# --- xlsx -------------------------------------------------------------------------------------------------

def test_xlsx_values_come_typed(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["policy_number", "premium_amount", "sum_assured", "start_date", "updated", "active", "notes"])
    sheet.append(["POL-1", 12500.5, 500000, date(2026, 1, 1), datetime(2026, 1, 2, 9, 30), True, None])
    sheet.append([None, None, None, None, None, None, "  "])  # blank: skipped
    sheet.append(["POL-2", 0.1, 7, None, None, False, "Prefers WhatsApp"])
    book.save(tmp_path / "book.xlsx")
    reader = open_sheet(tmp_path / "book.xlsx", "xlsx")
    try:
        assert isinstance(reader, XlsxSheetReader)
        assert reader.kind == "xlsx" and reader.header_row == 1 and reader.estimated_rows == 3
        assert reader.header[0] == "policy_number"
        rows = list(reader.rows())
        assert [number for number, _ in rows] == [2, 4]
        first = rows[0][1]
        assert first[:3] == ["POL-1", 12500.5, 500000]  # whole numbers come as float: 500000.0
        assert first[3] == date(2026, 1, 1) and first[4] == datetime(2026, 1, 2, 9, 30)
        assert first[5] is True and first[6] is None
        assert rows[1][1] == ["POL-2", 0.1, 7, None, None, False, "Prefers WhatsApp"]
    finally:
        reader.close()


def test_merged_cells_hold_their_value_in_the_top_left_cell(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["policy_number", "city", "state"])
    sheet.append(["POL-1", "Mumbai", None])
    sheet.append(["POL-2", None, None])
    sheet.merge_cells("B2:C3")
    book.save(tmp_path / "book.xlsx")
    assert read_all(tmp_path / "book.xlsx", "xlsx") == [(2, ["POL-1", "Mumbai", None]), (3, ["POL-2", None, None])]


def test_a_formula_without_a_cached_value_reads_as_empty(tmp_path: Path) -> None:
    """openpyxl writes the formula and no cached value: the cell is read as None, never evaluated."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["policy_number", "premium_amount"])
    sheet.append(["POL-1", "=1+1"])
    book.save(tmp_path / "book.xlsx")
    [(number, cells)] = read_all(tmp_path / "book.xlsx", "xlsx")
    assert number == 2 and cells[0] == "POL-1" and all(cell is None for cell in cells[1:])


def test_a_formula_gives_its_cached_value_not_its_result(tmp_path: Path) -> None:
    path = package(tmp_path / "book.xlsx", {"Policies": (
        f'<row r="1">{text("A1", "policy_number")}{text("B1", "premium_amount")}</row>'
        f'<row r="2">{text("A2", "POL-1")}<c r="B2"><f>1+1</f><v>5</v></c></row>')})
    assert read_all(path, "xlsx") == [(2, ["POL-1", 5.0])]


def test_the_first_visible_sheet_with_data_is_read_with_a_warning(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    hidden = book.active
    assert hidden is not None
    hidden.title = "Lists"
    hidden.append(["motor", "health"])
    hidden.sheet_state = "hidden"
    book.create_sheet("Empty")
    policies = book.create_sheet("Policies")
    policies.append(["policy_number"])
    policies.append(["POL-1"])
    book.create_sheet("Notes").append(["read me"])
    book.save(tmp_path / "book.xlsx")
    reader = open_sheet(tmp_path / "book.xlsx", "xlsx")
    try:
        assert isinstance(reader, XlsxSheetReader)
        assert reader.sheet_name == "Policies"
        assert reader.header == ["policy_number"]
        assert reader.warnings == ['the workbook has 3 visible sheets; only the first with data, "Policies", was read']
        assert list(reader.rows()) == [(2, ["POL-1"])]
    finally:
        reader.close()


def test_one_visible_sheet_gives_no_warning(tmp_path: Path) -> None:
    path = package(tmp_path / "book.xlsx", {"Policies": f'<row r="1">{text("A1")}</row><row r="2">{text("A2")}</row>'})
    reader = open_sheet(path, "xlsx")
    try:
        assert reader.warnings == []
    finally:
        reader.close()


def test_xlsx_rows_keep_their_sheet_numbers_when_the_data_starts_lower(tmp_path: Path) -> None:
    path = package(tmp_path / "book.xlsx", {"Policies": (
        f'<row r="3">{text("C3", "policy_number")}</row><row r="4">{text("C4", "POL-1")}</row>'
        f'<row r="9">{text("C9", "POL-2")}</row>')})
    reader = open_sheet(path, "xlsx")
    try:
        assert (reader.header_row, reader.header, reader.estimated_rows) == (3, [None, None, "policy_number"], 6)
        assert list(reader.rows()) == [(4, [None, None, "POL-1"]), (9, [None, None, "POL-2"])]  # from column A
        assert list(reader.rows(start_after=4)) == [(9, [None, None, "POL-2"])]
        assert list(reader.rows(start_after=9)) == []
    finally:
        reader.close()


def test_xlsx_header_only_is_unreadable(tmp_path: Path) -> None:
    path = package(tmp_path / "book.xlsx", {"Policies": f'<row r="1">{text("A1", "policy_number")}</row>'})
    with pytest.raises(UnreadableFile, match="the file has a header but no rows"):
        open_sheet(path, "xlsx")


def test_a_blank_workbook_is_unreadable(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.save(tmp_path / "book.xlsx")
    with pytest.raises(UnreadableFile, match="no header"):
        open_sheet(tmp_path / "book.xlsx", "xlsx")


def test_a_damaged_workbook_is_unreadable(tmp_path: Path) -> None:
    rows = f'<row r="1">{text("A1")}</row><row r="2">{text("A2")}</row>'
    whole = package(tmp_path / "whole.xlsx", {"Policies": rows})
    (tmp_path / "book.xlsx").write_bytes(whole.read_bytes()[:-40])  # the end of the zip directory is cut
    with pytest.raises(UnreadableFile, match="damaged"):
        open_sheet(tmp_path / "book.xlsx", "xlsx")


def test_a_sheet_that_is_not_xml_is_unreadable(tmp_path: Path) -> None:
    path = package(tmp_path / "book.xlsx", {"Policies": f'<row r="1">{text("A1")}</row><row r="2"><c r="A2"'})
    with pytest.raises(UnreadableFile):
        open_sheet(path, "xlsx")


# --- streaming: far cells, hostile parts, and agreement with calamine ---------------------------------------------

def test_two_cells_far_apart_are_read_in_little_memory(tmp_path: Path) -> None:
    """A1 and XFD1048576 (a 5 KB file for which calamine would allocate 512 GiB): rows stream; the cell beyond
    the reader's last column is dropped, so its row is blank."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = "policy_number"
    sheet["A2"] = "POL-1"
    sheet["XFD1048576"] = "far away"
    book.save(tmp_path / "book.xlsx")
    assert [(number, cells[:1]) for number, cells in read_all(tmp_path / "book.xlsx", "xlsx")] == [(2, ["POL-1"])]


def test_cells_beyond_excel_are_refused(tmp_path: Path) -> None:
    path = package(tmp_path / "book.xlsx", {"Policies": f'<row r="1">{text("A1")}{text("AAAAAA1")}</row>'
                                                        f'<row r="2">{text("A2")}</row>'})
    with pytest.raises(UnsafeFile, match="beyond Excel"):
        open_sheet(path, "xlsx")


def test_a_sheet_declaring_entities_is_refused(tmp_path: Path) -> None:
    path = package(tmp_path / "book.xlsx", {"Policies": "<row><c><v>1</v></c></row><row><c><v>&x;</v></c></row>"},
                   prolog='<!DOCTYPE worksheet [<!ENTITY x "1">]>')
    with pytest.raises(UnsafeFile, match="entities"):
        open_sheet(path, "xlsx")


def test_rows_out_of_order_are_refused(tmp_path: Path) -> None:
    path = package(tmp_path / "book.xlsx", {"Policies": f'<row r="1">{text("A1")}</row><row r="3">{text("A3")}</row>'
                                                        f'<row r="2">{text("A2")}</row>'})
    reader = open_sheet(path, "xlsx")
    try:
        with pytest.raises(UnreadableFile, match="row 2 comes after row 3"):
            list(reader.rows())
    finally:
        reader.close()


def test_a_long_sheet_streams_in_pieces_and_resumes_mid_way(tmp_path: Path) -> None:
    """Several 1 MiB pieces of XML, fast and slow forms mixed: every row once, in order, from any checkpoint."""
    rows = [f'<row r="1">{text("A1", "policy_number")}{text("B1", "n")}</row>']
    for number in range(2, 40_002):
        value = f'<c r="B{number}"><v>{number}</v></c>' if number % 997 else f'<c><v>{number}</v></c>'  # slow form
        rows.append(f'<row r="{number}">{text(f"A{number}", f"POL-{number}")}{value}</row>')
    path = package(tmp_path / "book.xlsx", {"Policies": "".join(rows)})
    reader = open_sheet(path, "xlsx")
    try:
        read = list(reader.rows())
        assert [number for number, _ in read] == list(range(2, 40_002))
        assert all(cells[0] == f"POL-{number}" for number, cells in read)
        assert all(cells[1] == float(number) for number, cells in read if number % 997)
        slow = [cells[0] for number, cells in read if number % 997 == 0]
        assert slow == [f"POL-{n}" for n in range(997, 40_002, 997)]
        assert [number for number, _ in reader.rows(start_after=39_990)] == list(range(39_991, 40_002))
    finally:
        reader.close()


def test_strings_dates_booleans_and_escapes_read_as_calamine_reads_them(tmp_path: Path) -> None:
    book = openpyxl.Workbook()  # openpyxl's normal mode writes shared strings and date styles
    sheet = book.active
    assert sheet is not None
    sheet.append(["policy_number", "notes", "start_date", "active", "premium"])
    sheet.append(["POL-1", "Tom & Jerry <x>", date(2026, 1, 31), True, 100])
    sheet.append(["POL-2", "  padded  ", datetime(2026, 2, 1, 10, 30), False, 0.5])
    sheet.append(["POL-3", "tab_x0009_here", None, None, -3])
    book.save(tmp_path / "book.xlsx")
    assert streamed_rows(tmp_path / "book.xlsx") == calamine_rows(tmp_path / "book.xlsx")


def column_name(number: int) -> str:
    name = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        name = chr(65 + remainder) + name
    return name


def random_cell(rng: random.Random, row: int, column: int) -> str:
    ref = f"{column_name(column)}{row}"
    word = rng.choice(["x", "Ann &amp; Bo", " lead ", "é", "9"])
    return rng.choice([
        f'<c r="{ref}" t="inlineStr"><is><t>{word}</t></is></c>',
        f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{word}</t></is></c>',
        f'<c r="{ref}" t="inlineStr"><is><r><t>{word}</t></r><r><t>2</t></r></is></c>',
        f'<c t="inlineStr"><is><t>{word}</t></is></c>', f'<c r="{ref.lower()}" t="inlineStr"><is><t>y</t></is></c>',
        f'<c t="inlineStr" r="{ref}"><is><t>{word}</t></is></c>', f'<y:c r="{ref}"><y:v>4.5</y:v></y:c>',
        f'<c r="{ref}" s="1"/>', f'<c r="{ref}"></c>', f'<c r="{ref}"><v>{rng.randint(-5, 10**6)}</v></c>',
        f'<c r="{ref}" t="n"><v>1.25E3</v></c>', f'<c r="{ref}" t="b"><v>{rng.randint(0, 1)}</v></c>',
        f'<c r="{ref}" t="e"><v>#N/A</v></c>', f'<c r="{ref}" t="str"><f>A1</f><v>{word}</v></c>',
        f'<c r="{ref}" t="s"><v>{rng.randint(0, 2)}</v></c>',
    ])


def calamine_rows(path: Path) -> list[tuple[int, list[object]]]:
    """What python-calamine reads (non-blank rows), shifted to start at column A as the streaming reader does."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        sheet = book.get_sheet_by_index(0)
        if sheet.start is None:
            return []
        _, left = sheet.start
        rows = []
        for offset, values in enumerate(sheet.iter_rows()):
            cells: list[object] = [None] * left + [None if value == "" else value for value in values]
            while cells and cells[-1] is None:
                cells.pop()
            if any(cell is not None and (type(cell) is not str or cell.strip()) for cell in cells):
                rows.append((offset + 1, cells))  # iter_rows starts at row 1 (python-calamine #177)
        return rows
    finally:
        book.close()


def streamed_rows(path: Path) -> list[tuple[int, list[object]]]:
    reader = XlsxSheetReader(path)
    try:
        rows = [(reader.header_row, list(reader.header)), *reader.rows()]
    finally:
        reader.close()
    for _, cells in rows:
        while cells and cells[-1] is None:
            cells.pop()
    return rows


def shared_strings(path: Path) -> Path:
    """Add a three-item shared strings table (plain, preserved, rich with a phonetic run) to a packaged book."""
    sst = (f'<?xml version="1.0"?><sst xmlns="{MAIN_NS}"><si><t>one</t></si><si><t xml:space="preserve"> two </t>'
           '</si><si><r><t>thr</t></r><r><t>ee</t></r><rPh sb="0" eb="1"><t>X</t></rPh></si></sst>')
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/sharedStrings.xml", sst)
    return path


@pytest.mark.parametrize("seed", range(60))
def test_the_streaming_reader_reads_what_calamine_reads(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    numbers = sorted(rng.sample(range(1, 40), rng.randint(2, 12)))
    rows = [f'<row r="{numbers[0]}"><c r="A{numbers[0]}" t="inlineStr"><is><t>head</t></is></c></row>']
    for previous, number in itertools.pairwise(numbers):
        columns = sorted(rng.sample(range(1, 60), rng.randint(1, 6)))
        cells = "".join(random_cell(rng, number, column) for column in columns)
        implicit = number == previous + 1 and rng.random() < 0.5  # a row without `r` is the one after the last
        rows.append(f"<row>{cells}</row>" if implicit else f'<row r="{number}">{cells}</row>')
    body = "".join(rows).replace("<y:", '<y:').replace("<y:c ", '<y:c xmlns:y="' + MAIN_NS + '" ')
    path = shared_strings(package(tmp_path / "book.xlsx", {"S": body}))
    try:
        expected = calamine_rows(path)
    except Exception:  # calamine refuses this random sheet: ours must refuse it too
        with pytest.raises((UnreadableFile, UnsafeFile)):
            streamed_rows(path)
        return
    assert streamed_rows(path) == expected


def test_a_piece_in_the_fast_form_never_reads_the_slow_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Excel's form is read by the regular expression alone: the pyexpat path is not taken."""
    path = package(tmp_path / "book.xlsx", {"Policies": "".join(
        f'<row r="{n}">{text(f"A{n}", f"v{n}")}<c r="B{n}" s="0" t="n"><v>{n}</v></c></row>' for n in range(1, 500))})

    def refuse(*_: object) -> object:
        raise AssertionError("the slow path was taken")

    monkeypatch.setattr(SheetStream, "_slow_rows", refuse)
    assert len(read_all(path, "xlsx")) == 498
