"""`SpreadsheetInspector.peek` (adapters.spreadsheets.preview) against `open`, on files generated here.

The header peek reads without calamine must be the header `open` reads with it (trailing empty cells aside,
which `match_headers` drops): the same cells, the same types, the same row and sheet, the same warnings.
Most tests therefore build a book, then compare the two.
"""

from __future__ import annotations

import random
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pytest

from adapters.spreadsheets.inspection import SpreadsheetInspector
from adapters.spreadsheets.preview import Preview, peek_sheet
from application.uploads.errors import UnreadableFile, UnsafeFile
from domain.uploads.headers import match_headers

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
TEMPLATE_HEADER = ["policy_number", "customer_code", "first_name", "last_name", "email", "phone", "date_of_birth",
                   "policy_type", "premium_amount", "sum_assured", "start_date", "end_date", "renewal_date"]


def book(path: Path, sheets: list[tuple[str, str]], *, states: dict[str, str] | None = None,
         shared: list[str] | None = None, styles: str | None = None, dimensions: dict[str, str] | None = None,
         workbook_pr: str = "", raw_shared: str | None = None) -> Path:
    """An xlsx written member by member: each sheet is (name, the inside of its <sheetData>); `shared` holds
    the inside of each <si>; `styles` the inside of <styleSheet>."""
    states = states or {}
    dimensions = dimensions or {}
    members = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                               'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                               'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                               '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                               'officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
                       f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">{workbook_pr}<sheets>'
                           + "".join(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"'
                                     + (f' state="{states[name]}"' if name in states else "") + "/>"
                                     for i, (name, _) in enumerate(sheets, 1)) + "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{PACKAGE_RELS}">'
                                      + "".join(f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" '
                                                f'Target="worksheets/sheet{i}.xml"/>'
                                                for i in range(1, len(sheets) + 1))
                                      + "</Relationships>",
    }
    for i, (name, data) in enumerate(sheets, 1):
        dimension = f'<dimension ref="{dimensions[name]}"/>' if name in dimensions else ""
        members[f"xl/worksheets/sheet{i}.xml"] = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">'
                                                  f"{dimension}<sheetData>{data}</sheetData></worksheet>")
    if shared is not None:
        members["xl/sharedStrings.xml"] = (f'<?xml version="1.0"?><sst xmlns="{MAIN_NS}">'
                                           + "".join(f"<si>{item}</si>" for item in shared) + "</sst>")
    if raw_shared is not None:
        members["xl/sharedStrings.xml"] = raw_shared
    if styles is not None:
        members["xl/styles.xml"] = f'<?xml version="1.0"?><styleSheet xmlns="{MAIN_NS}">{styles}</styleSheet>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, text in members.items():
            archive.writestr(member, text)
    return path


def inline(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'


def number(ref: str, value: object, style: int | None = None) -> str:
    return f'<c r="{ref}"' + (f' s="{style}"' if style is not None else "") + f"><v>{value}</v></c>"


def row(number_: int, *cells: str) -> str:
    return f'<row r="{number_}">{"".join(cells)}</row>'


def trimmed(cells: list[object]) -> list[object]:
    cells = list(cells)
    while cells and cells[-1] is None:
        cells.pop()
    return cells


def peek_and_open(path: Path, kind: str = "xlsx") -> tuple[Preview, object]:
    """peek's preview, after checking it against open's reader: header (but trailing empty cells), header row,
    warnings and the types of the header's cells; returns the preview and open's estimated_rows."""
    inspector = SpreadsheetInspector()
    preview = inspector.peek(path, kind)
    assert isinstance(preview, Preview)
    reader = inspector.open(path, kind)
    try:
        assert trimmed(preview.header) == trimmed(reader.header)
        assert [type(cell) for cell in trimmed(preview.header)] == [type(cell) for cell in trimmed(reader.header)]
        assert preview.header_row == reader.header_row
        assert preview.warnings == reader.warnings
        assert match_headers(preview.header) == match_headers(reader.header)
        if kind == "xlsx":
            assert preview.sheet_name == reader.sheet_name  # type: ignore[attr-defined]
        return preview, reader.estimated_rows
    finally:
        reader.close()


# --- xlsx written by openpyxl ------------------------------------------------------------------------------

def test_an_openpyxl_book_with_a_dimension(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(TEMPLATE_HEADER)
    for i in range(50):
        sheet.append([f"POL-{i}", f"C{i}", "Asha", "Rao", f"a{i}@x.in", "+91 98", date(1990, 1, 2), "motor",
                      1250.5, 500000, date(2026, 1, 1), date(2026, 12, 31), None])
    workbook.save(tmp_path / "book.xlsx")
    with zipfile.ZipFile(tmp_path / "book.xlsx") as archive:  # openpyxl 3.1 writes inline strings too
        assert b'<dimension ref="A1:M51"' in archive.read("xl/worksheets/sheet1.xml")
    preview, estimated = peek_and_open(tmp_path / "book.xlsx")
    assert preview.header == TEMPLATE_HEADER
    assert preview.estimated_rows == estimated == 50


def test_an_openpyxl_write_only_book_with_inline_strings_and_no_dimension(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Policies")
    sheet.append(TEMPLATE_HEADER)
    for i in range(300):
        sheet.append([f"POL-{i}", f"C{i}", "Asha", "Rao", None, None, date(1990, 1, 2), "motor", 1250.5, 7])
    workbook.save(tmp_path / "book.xlsx")
    with zipfile.ZipFile(tmp_path / "book.xlsx") as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<dimension" not in sheet_xml and b"inlineStr" in sheet_xml
    preview, estimated = peek_and_open(tmp_path / "book.xlsx")
    assert preview.header == TEMPLATE_HEADER
    assert preview.estimated_rows == estimated == 300  # the whole sheet fits in the sample: counted


def test_the_first_hidden_sheet_is_passed_with_the_same_warning(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    lists = workbook.active
    assert lists is not None
    lists.title = "Lists"
    lists.append(["motor", "health"])
    lists.sheet_state = "hidden"
    workbook.create_sheet("Empty")
    policies = workbook.create_sheet("Policies")
    policies.append(["policy_number", "premium_amount"])
    policies.append(["POL-1", 10])
    workbook.create_sheet("Notes").append(["read me"])
    workbook.save(tmp_path / "book.xlsx")
    preview, _ = peek_and_open(tmp_path / "book.xlsx")
    assert preview.sheet_name == "Policies" and preview.header == ["policy_number", "premium_amount"]
    assert preview.warnings == ['the workbook has 3 visible sheets; only the first with data, "Policies", was read']


def test_typed_header_cells_come_as_open_reads_them(tmp_path: Path) -> None:
    """Numbers as float, booleans, dates from a date number format, blank cells in between as None."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["policy_number", 2026, 12.5, True, date(2026, 1, 1), datetime(2026, 1, 2, 9, 30), time(8, 15),
                  None, "  ", "notes"])
    sheet.append(["POL-1"])
    workbook.save(tmp_path / "book.xlsx")
    preview, _ = peek_and_open(tmp_path / "book.xlsx")
    # "  " is written without xml:space="preserve": calamine strips it to an empty cell
    assert preview.header == ["policy_number", 2026.0, 12.5, True, date(2026, 1, 1), datetime(2026, 1, 2, 9, 30),
                              time(8, 15), None, None, "notes"]


# --- xlsx written member by member ---------------------------------------------------------------------------

def test_inline_strings_and_a_header_lower_down(tmp_path: Path) -> None:
    path = book(tmp_path / "book.xlsx", [("Policies", row(3, inline("C3", "policy_number"), inline("D3", "city"))
                                          + row(4, inline("C4", "POL-1")) + row(9, inline("C9", "POL-2")))])
    preview, estimated = peek_and_open(path)
    assert (preview.header_row, preview.header, preview.estimated_rows) == (3, [None, None, "policy_number", "city"], 6)
    assert estimated == 6


def test_blank_rows_before_the_header_count_for_the_first_column(tmp_path: Path) -> None:
    """A row of spaces is blank, but its cells are values: calamine's rows start at their column."""
    rows = row(1, inline("A1", "   ")) + row(2, inline("B2", "policy_number")) + row(3, inline("B3", "POL-1"))
    path = book(tmp_path / "book.xlsx", [("Policies", rows)])
    preview, _ = peek_and_open(path)
    assert (preview.header_row, preview.header) == (2, [None, "policy_number"])


def test_shared_strings_rich_text_phonetics_and_escapes(tmp_path: Path) -> None:
    shared = ["<t>policy_number</t>", '<r><rPr><b/></rPr><t>first</t></r><r><t xml:space="preserve"> name</t></r>'
              '<rPh sb="0" eb="1"><t>PHONETIC</t></rPh><phoneticPr fontId="1"/>', "<t>line_x000D_break &amp; more</t>",
              "<t/>", "<t>POL-1</t>"]
    cells = [f'<c r="{column}1" t="s"><v>{index}</v></c>' for column, index in zip("ABCD", range(4), strict=True)]
    path = book(tmp_path / "book.xlsx", [("Policies", row(1, *cells) + row(2, '<c r="A2" t="s"><v>4</v></c>'))],
                shared=shared)
    preview, _ = peek_and_open(path)
    assert preview.header == ["policy_number", "first name", "line\rbreak & more", None]


def test_other_cell_types_in_the_header(tmp_path: Path) -> None:
    cells = ['<c r="A1" t="str"><v>policy_x005F_number</v></c>', '<c r="B1" t="b"><v>0</v></c>',
             '<c r="C1" t="e"><v>#N/A</v></c>', '<c r="D1" t="d"><v>2026-01-02T03:04:05</v></c>',
             '<c r="E1" t="d"><v>2026-01-02</v></c>', '<c r="F1"><v>12 </v></c>', '<c r="G1"><v>1e3</v></c>',
             '<c r="H1"><f>1+1</f></c>', '<c r="I1" t="inlineStr"><is><t>a</t><rPh><t>b</t></rPh></is></c>',
             '<c r="J1" s="1"/>', '<c r="K1" t="str"><v></v></c>', '<c r="L1"><v>5</v><f>2+3</f></c>',
             inline("M1", "x"), '<c r="N1" t="inlineStr"><is><t> padded\t</t></is></c>',
             '<c r="O1" t="inlineStr"><is><t>  </t></is></c>', '<c r="P1" t="str"><v> kept </v></c>']
    path = book(tmp_path / "book.xlsx", [("Policies", row(1, *cells) + row(2, inline("A2", "POL-1")))])
    preview, _ = peek_and_open(path)
    assert preview.header == ["policy_number", False, None, datetime(2026, 1, 2, 3, 4, 5), date(2026, 1, 2), "12 ",
                              1000.0, None, "a", None, None, None, "x", "padded", None, " kept "]


def test_cells_without_references_are_placed_as_calamine_places_them(tmp_path: Path) -> None:
    data = ('<row><c t="inlineStr"><is><t>policy_number</t></is></c><c t="inlineStr"><is><t>city</t></is></c></row>'
            '<row><c r="B2" t="inlineStr"><is><t>Pune</t></is></c><c><v>3</v></c></row>')
    preview, _ = peek_and_open(book(tmp_path / "book.xlsx", [("Policies", data)]))
    assert preview.header == ["policy_number", "city", None]  # the first data row reaches column C


@pytest.mark.parametrize("code", ["yyyy-mm-dd", "dd/mm/yy hh:mm", "[h]:mm:ss", "h:mm AM/PM", "0.00", '"y"0',
                                  "#,##0*y", "[Red]0.00", "mm:ss", "General", "[$-404]e/m/d", "0_m"])
@pytest.mark.parametrize("value", ["0.25", "1", "45000", "45000.75", "59", "60", "61"])
def test_number_formats_are_read_as_calamine_reads_them(tmp_path: Path, code: str, value: str) -> None:
    styles = (f'<numFmts count="1"><numFmt numFmtId="164" formatCode="{code.replace(chr(34), "&quot;")}"/></numFmts>'
              '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/></cellXfs>')
    data = row(1, number("A1", value, 1), number("B1", value, 2), number("C1", value, 7)) + row(2, number("A2", 1))
    peek_and_open(book(tmp_path / "book.xlsx", [("Policies", data)], styles=styles))
    peek_and_open(book(tmp_path / "b1904.xlsx", [("Policies", data)], styles=styles,
                       workbook_pr='<workbookPr date1904="1"/>'))


def test_a_header_right_of_values_further_down_starts_where_calamine_starts(tmp_path: Path) -> None:
    """No dimension: the rest of the sheet is scanned for a value left of the header."""
    rows = [row(1, inline("B1", "policy_number"), inline("C1", "city"))]
    rows += [row(n, inline(f"B{n}", f"POL-{n}")) for n in range(2, 200)]
    rows += [row(200, number("A200", 7))]
    preview, _ = peek_and_open(book(tmp_path / "book.xlsx", [("Policies", "".join(rows))]))
    assert preview.header == [None, "policy_number", "city"]


def test_a_value_left_of_the_header_megabytes_further_down_is_found(tmp_path: Path) -> None:
    rows = [row(1, inline("C1", "policy_number"), inline("D1", "city"))]
    rows += [row(n, inline(f"C{n}", f"POL-{n:06d}"), inline(f"D{n}", "Pune" * 10)) for n in range(2, 40_000)]
    rows += [row(40_000, number("B40000", 7)), row(40_001, inline("A40001", "  "))]
    path = book(tmp_path / "book.xlsx", [("Policies", "".join(rows))])
    preview, estimated = peek_and_open(path)
    assert preview.header == [None, None, "policy_number", "city"]  # rows start at column A
    assert preview.estimated_rows == estimated and abs(estimated - 40_000) < 400


def test_a_header_after_many_formatted_rows(tmp_path: Path) -> None:
    """The parse goes on over several chunks before it finds the header."""
    rows = [row(n, f'<c r="A{n}" s="1"/><c r="B{n}" s="1"/>') for n in range(1, 5_000)]
    rows += [row(5_000, inline("B5000", "policy_number")), row(5_001, inline("B5001", "POL-1"))]
    preview, estimated = peek_and_open(book(tmp_path / "book.xlsx", [("Policies", "".join(rows))]))
    assert (preview.header_row, preview.header) == (5_000, [None, "policy_number"])
    assert preview.estimated_rows == estimated == 1


def test_formatted_empty_cells_left_of_the_header_do_not_move_it(tmp_path: Path) -> None:
    """A dimension from column A over formatted empty cells: the scan finds no value there."""
    rows = [row(1, '<c r="A1" s="1"/>', inline("B1", "policy_number"))]
    rows += [row(n, f'<c r="A{n}" s="1"/>', f'<c r="B{n}" t="inlineStr"><is><t>P{n}</t></is></c>',
                 '<c r="A9" t="inlineStr"/>' if n == 9 else "") for n in range(2, 50)]
    preview, _ = peek_and_open(book(tmp_path / "book.xlsx", [("Policies", "".join(rows))],
                                    dimensions={"Policies": "A1:B49"}))
    assert preview.header == [None, "policy_number"]


def test_a_dimension_starting_at_the_header_is_trusted(tmp_path: Path) -> None:
    rows = row(1, inline("C1", "policy_number")) + row(2, inline("C2", "POL-1"))
    preview = peek_sheet(book(tmp_path / "book.xlsx", [("Policies", rows)], dimensions={"Policies": "C1:C90"}), "xlsx")
    assert (preview.header, preview.estimated_rows) == ([None, None, "policy_number"], 89)


def test_the_row_estimate_comes_from_the_dimension(tmp_path: Path) -> None:
    rows = row(2, inline("A2", "policy_number")) + row(3, inline("A3", "POL-1"))
    preview = peek_sheet(book(tmp_path / "book.xlsx", [("Policies", rows)], dimensions={"Policies": "A1:AH100001"}),
                         "xlsx")
    assert preview.estimated_rows == 100_001 - 2
    short = peek_sheet(book(tmp_path / "short.xlsx", [("Policies", rows)], dimensions={"Policies": "A1"}), "xlsx")
    assert short.estimated_rows == 1  # a dimension ending before the first data row is not believed


def test_a_large_sheet_without_dimension_is_estimated_within_a_few_per_cent(tmp_path: Path) -> None:
    rng = random.Random(3)
    cells = "".join(inline(f"{column}1", f"column_{column}") for column in "ABCDEFGHIJ")
    rows = [row(1, cells)]
    for n in range(2, 30_002):
        rows.append(row(n, *(inline(f"{column}{n}", "x" * rng.randrange(3, 12)) for column in "ABCDEFGHIJ")))
    path = book(tmp_path / "book.xlsx", [("Policies", "".join(rows))])
    preview, estimated = peek_and_open(path)
    assert estimated == preview.estimated_rows  # the reader gives the upload's figure
    assert abs(preview.estimated_rows - 30_000) < 30_000 * 0.03


def test_only_the_shared_strings_needed_are_read(tmp_path: Path) -> None:
    """The table is damaged after the strings the header and the first row use: peek does not reach it."""
    items = "".join(f"<si><t>s{i}</t></si>" for i in range(20_000))
    raw = (f'<?xml version="1.0"?><sst xmlns="{MAIN_NS}"><si><t>policy_number</t></si><si><t>POL-1</t></si>'
           f"{items}<broken")
    data = row(1, '<c r="A1" t="s"><v>0</v></c>') + row(2, '<c r="A2" t="s"><v>1</v></c>')
    path = book(tmp_path / "book.xlsx", [("Policies", data)], raw_shared=raw)
    assert peek_sheet(path, "xlsx").header == ["policy_number"]
    with pytest.raises(UnreadableFile):
        SpreadsheetInspector().open(path, "xlsx")


@pytest.mark.parametrize("prefix", ["", "x:"])
def test_header_strings_at_the_end_of_a_large_table(tmp_path: Path, prefix: str) -> None:
    """A header typed last: its strings are at the end of the table, in any order, and the first data row's
    at its start. Counting item tags reaches them (unprefixed tables); a prefixed table is parsed through."""
    forms = [f'<{prefix}si><{prefix}t xml:space="preserve"> s{{}} </{prefix}t></{prefix}si>', f"<{prefix}si/>",
             f"<{prefix}si ><{prefix}r><{prefix}t>r{{}}</{prefix}t></{prefix}r></{prefix}si>"]
    filler = [forms[i % 3].format(i) for i in range(30_000)]
    names = ["policy_number", "city", "premium_amount", "notes"]
    items = filler + [f"<{prefix}si><{prefix}t>{name}</{prefix}t></{prefix}si>" for name in names]
    raw = (f'<?xml version="1.0" encoding="UTF-8"?><{prefix}sst xmlns{":x" if prefix else ""}="{MAIN_NS}">'
           + "".join(items) + f"</{prefix}sst>")
    header = [f'<c r="{column}1" t="s"><v>{30_000 + index}</v></c>' for column, index in zip("ABCD", (2, 0, 3, 1),
                                                                                           strict=True)]
    data = (row(1, *header) + row(2, '<c r="A2" t="s"><v>1</v></c>', '<c r="B2" t="s"><v>0</v></c>',
                                  '<c r="C2" t="s"><v>29999</v></c>'))
    path = book(tmp_path / "book.xlsx", [("Policies", data)], raw_shared=raw)
    preview, _ = peek_and_open(path)
    assert preview.header == ["premium_amount", "policy_number", "notes", "city"]


@pytest.mark.parametrize("seed", [*range(40), 122])  # 122: the value left of the header is further down
def test_random_sheets_give_open_s_header(tmp_path: Path, seed: int) -> None:
    """Small sheets of every kind of cell, here and there, with no dimension or a true one from A1."""
    rng = random.Random(seed)
    shared = [rng.choice(["policy_number", "city", " ", "", "x_x000D_y", "premium"]) for _ in range(12)]
    kinds = ["inline", "shared", "number", "bool", "blank", "spaces", "styled", "str", "error"]
    rows = []
    for n in sorted(rng.sample(range(1, 12), rng.randrange(2, 8))):
        cells = []
        for column in sorted(rng.sample("ABCDEFG", rng.randrange(1, 6))):
            ref = f"{column}{n}"
            kind = rng.choice(kinds)
            cells.append({"inline": inline(ref, rng.choice(["policy_number", "a b", "é"])),
                          "shared": f'<c r="{ref}" t="s"><v>{rng.randrange(len(shared))}</v></c>',
                          "number": number(ref, rng.choice(["1", "2.5", "-3e2"]), rng.choice([None, 0, 1])),
                          "bool": f'<c r="{ref}" t="b"><v>{rng.choice("01")}</v></c>',
                          "blank": inline(ref, ""), "spaces": inline(ref, "  "), "styled": f'<c r="{ref}" s="1"/>',
                          "str": f'<c r="{ref}" t="str"><v>{rng.choice(["", "v", " "])}</v></c>',
                          "error": f'<c r="{ref}" t="e"><v>#DIV/0!</v></c>'}[kind])
        rows.append(row(n, *cells))
    styles = '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>'
    dimension = rng.choice([{}, {"Policies": "A1:G11"}])
    path = book(tmp_path / "book.xlsx", [("Policies", "".join(rows))], shared=[f"<t>{s}</t>" for s in shared],
                styles=styles, dimensions=dimension)
    try:
        SpreadsheetInspector().open(path, "xlsx").close()
    except UnreadableFile as error:  # blank, or a header only: peek must refuse it alike
        with pytest.raises(UnreadableFile, match=str(error)):
            peek_sheet(path, "xlsx")
        return
    peek_and_open(path)


# --- refusals --------------------------------------------------------------------------------------------------

def test_a_header_without_rows_is_unreadable(tmp_path: Path) -> None:
    rows = row(1, inline("A1", "policy_number")) + row(2, inline("A2", " "))
    path = book(tmp_path / "book.xlsx", [("Policies", rows)])
    with pytest.raises(UnreadableFile, match="the file has a header but no rows"):
        peek_sheet(path, "xlsx")


def test_a_blank_workbook_is_unreadable(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.save(tmp_path / "book.xlsx")
    with pytest.raises(UnreadableFile, match="no header row"):
        peek_sheet(tmp_path / "book.xlsx", "xlsx")


def test_a_workbook_without_a_visible_sheet_is_unreadable(tmp_path: Path) -> None:
    path = book(tmp_path / "book.xlsx", [("Policies", row(1, inline("A1", "a")))], states={"Policies": "hidden"})
    with pytest.raises(UnreadableFile, match="no visible worksheet"):
        peek_sheet(path, "xlsx")


def test_a_sheet_without_relationship_is_unreadable_as_calamine_finds_it(tmp_path: Path) -> None:
    path = book(tmp_path / "book.xlsx", [("Policies", row(1, inline("A1", "a")) + row(2, inline("A2", "b")))])
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info.filename, data.replace(b'r:id="rId1"', b'r:id="rId9"')
                            if info.filename == "xl/workbook.xml" else data)
    with pytest.raises(UnreadableFile):
        SpreadsheetInspector().open(broken, "xlsx")
    with pytest.raises(UnreadableFile):
        peek_sheet(broken, "xlsx")


def test_a_damaged_workbook_is_unreadable(tmp_path: Path) -> None:
    path = book(tmp_path / "book.xlsx", [("Policies", row(1, inline("A1", "a")) + row(2, inline("A2", "b")))])
    (tmp_path / "cut.xlsx").write_bytes(path.read_bytes()[:-40])
    with pytest.raises(UnreadableFile, match="damaged"):
        peek_sheet(tmp_path / "cut.xlsx", "xlsx")
    bad = book(tmp_path / "bad.xlsx", [("Policies", row(1, inline("A1", "a")) + "<row")])
    with pytest.raises(UnreadableFile, match="not well-formed"):
        peek_sheet(bad, "xlsx")


@pytest.mark.parametrize("member", ["sheet", "shared strings"])
def test_entity_declarations_are_refused_by_the_streaming_parser(tmp_path: Path, member: str) -> None:
    """The inspector refuses them in the first 4 KiB; the parser refuses them wherever they are."""
    doctype = '<!DOCTYPE x [<!ENTITY e "policy_number">]>'
    if member == "sheet":
        path = book(tmp_path / "book.xlsx", [("Policies", "")])
        sheet = (f'<?xml version="1.0"?>{doctype}<worksheet xmlns="{MAIN_NS}"><sheetData>'
                 f'{row(1, inline("A1", "&e;"))}{row(2, inline("A2", "b"))}</sheetData></worksheet>')
        rewritten = tmp_path / "entities.xlsx"
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w") as target:
            for info in source.infolist():
                target.writestr(info.filename, sheet if info.filename.endswith("sheet1.xml") else source.read(info))
        path = rewritten
    else:
        raw = f'<?xml version="1.0"?>{doctype}<sst xmlns="{MAIN_NS}"><si><t>&e;</t></si></sst>'
        path = book(tmp_path / "book.xlsx", [("Policies", row(1, '<c r="A1" t="s"><v>0</v></c>')
                                              + row(2, inline("A2", "b")))], raw_shared=raw)
    with pytest.raises(UnsafeFile, match="declares XML entities"):
        peek_sheet(path, "xlsx")


def test_cells_beyond_excel_are_refused(tmp_path: Path) -> None:
    path = book(tmp_path / "book.xlsx", [("Policies", row(1, inline("A1", "a"), inline("XFE1", "far")))])
    with pytest.raises(UnsafeFile):
        peek_sheet(path, "xlsx")


# --- csv ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "data"), [
    ("comma", b"policy_number,premium_amount,notes\nPOL-1,12500.50,\n"),
    ("semicolon with BOM", b"\xef\xbb\xbfpolicy_number;premium_amount\r\nPOL-1;1\r\nPOL-2;2\r\n"),
    ("tab", b"policy_number\tcity\nPOL-1\tPune\n"),
    ("windows-1252", "policy_number,ville\nPOL-1,Besan\u00e7on\n".encode("cp1252")),
    ("blank lines first", b"\n ,  \npolicy_number,,city\n\nPOL-1,,Pune\n"),
    ("quoted line break", b'"policy\nnumber",city\nPOL-1,Pune\n'),
    ("stray bad byte", b"policy_number,city\nPOL-1,Pune\n" + "\u00e9".encode() + b"\xff,x\n"),
    ("old mac", b"policy_number,city\rPOL-1,Pune\rPOL-2,Goa"),
])
def test_csv_previews_are_the_reader_s(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / "book.csv"
    path.write_bytes(data)
    preview, estimated = peek_and_open(path, "csv")
    assert preview.header == SpreadsheetInspector().open(path, "csv").header  # exact, trailing cells included
    assert preview.estimated_rows == estimated


def test_csv_refusals(tmp_path: Path) -> None:
    header_only = tmp_path / "header.csv"
    header_only.write_bytes(b"policy_number,city\n , \n")
    with pytest.raises(UnreadableFile, match="the file has a header but no rows"):
        peek_sheet(header_only, "csv")
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"\n,\n")
    with pytest.raises(UnreadableFile, match="no header row"):
        peek_sheet(blank, "csv")


def test_an_unknown_kind_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown sheet kind"):
        peek_sheet(tmp_path / "book.ods", "ods")
