"""The upload template (xlsx, csv) and the error report (xlsx, csv) written with openpyxl."""

from __future__ import annotations

import csv
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped, unused-ignore]
from python_calamine import CalamineWorkbook

from adapters.spreadsheets.workbooks import (
    MAX_COMMENTS,
    OpenpyxlWorkbookWriter,
    error_text,
    write_error_report,
    write_template,
    write_template_csv,
)
from application.uploads.ports import WorkbookWriter
from domain.uploads.columns import UPLOAD_COLUMNS, ColumnKind, by_key, header_key
from domain.uploads.headers import match_headers
from domain.uploads.model import RowError

POLICY_TYPES = ("health", "motor", "life", "travel")
BRANCHES = ("DEL01", "MUM01", "BLR02")
KEYS = [column.key for column in UPLOAD_COLUMNS if column.kind is not ColumnKind.IGNORED]
REQUIRED = {column.key for column in UPLOAD_COLUMNS if column.required}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Any:
    target = tmp_path_factory.mktemp("template") / "template.xlsx"
    write_template(target, policy_types=POLICY_TYPES, branch_codes=BRANCHES)
    return load_workbook(target)


def _headers(ws: Any) -> list[Any]:
    return [cell.value for cell in ws[1]]


def _column_letter(ws: Any, key: str) -> str:
    return str(ws.cell(row=1, column=_headers(ws).index(key) + 1).column_letter)


def _list_values(workbook: Any, formula: str) -> list[str]:
    """The values a list validation offers: inline ("a,b") or a range of another sheet ('Lists'!$A$2:$A$5)."""
    if formula.startswith('"'):
        return formula.strip('"').split(",")
    sheet, cells = formula.split("!")
    return [row[0].value for row in workbook[sheet.strip("'")][cells.replace("$", "")]]


def _drop_downs(workbook: Any) -> dict[str, tuple[str, list[str]]]:
    """column key -> (the validation's formula, the values it offers), for the Policies sheet."""
    ws = workbook["Policies"]
    headers = _headers(ws)
    found: dict[str, tuple[str, list[str]]] = {}
    for validation in ws.data_validations.dataValidation:
        assert validation.type == "list"
        ref = str(validation.sqref)
        start, end = ref.split(":")
        column = ws[start].column
        assert start == f"{ws[start].column_letter}2" and end == f"{ws[start].column_letter}10001"
        found[headers[column - 1]] = (validation.formula1, _list_values(workbook, validation.formula1))
    return found


# --- the xlsx template -------------------------------------------------------------------------------


def test_template_headers_are_the_non_ignored_keys_in_schema_order(template: Any) -> None:
    assert template.sheetnames[:2] == ["Policies", "Instructions"]
    ws = template["Policies"]
    assert _headers(ws) == KEYS
    assert "gender" not in _headers(ws)  # an IGNORED column of the old template
    assert ws.freeze_panes == "A2"


def test_required_headers_are_marked(template: Any) -> None:
    ws = template["Policies"]
    required_fills = {ws.cell(row=1, column=i + 1).fill.fgColor.rgb for i, k in enumerate(KEYS) if k in REQUIRED}
    optional_fills = {ws.cell(row=1, column=i + 1).fill.fgColor.rgb for i, k in enumerate(KEYS) if k not in REQUIRED}
    assert len(required_fills) == 1 and required_fills.isdisjoint(optional_fills)
    for index, key in enumerate(KEYS, start=1):
        cell = ws.cell(row=1, column=index)
        column = by_key(key)
        assert cell.comment is not None, key
        text = cell.comment.text
        assert column.label in text
        if key in REQUIRED:
            assert cell.font.b and "(required)" in text, key
        else:
            assert not cell.font.b and "(required)" not in text, key
        if column.help:
            assert column.help in text
        for alias in column.aliases:
            assert alias in text


def test_drop_downs_offer_the_choices_and_the_catalogues(template: Any) -> None:
    drop_downs = _drop_downs(template)
    assert set(drop_downs) == {"kyc_status", "policy_type", "status", "branch_code", "priority"}
    policy_formula, policy_values = drop_downs["policy_type"]
    assert policy_formula.startswith("'Lists'!") or policy_formula.startswith("Lists!")
    assert policy_values == list(POLICY_TYPES)
    assert drop_downs["branch_code"][1] == list(BRANCHES)
    for key in ("kyc_status", "status", "priority"):
        assert drop_downs[key][1] == list(by_key(key).choices)
    assert template["Lists"].sheet_state == "hidden"


def test_a_long_catalogue_goes_to_the_lists_sheet(tmp_path: Path) -> None:
    types = [f"policy type number {i}" for i in range(60)]  # far over the 255 characters of an inline list
    write_template(tmp_path / "t.xlsx", policy_types=types, branch_codes=BRANCHES)
    workbook = load_workbook(tmp_path / "t.xlsx")
    formula, values = _drop_downs(workbook)["policy_type"]
    assert "Lists" in formula and values == types


def test_example_row_has_valid_choices_and_formats(template: Any) -> None:
    ws = template["Policies"]
    example = {key: ws.cell(row=2, column=i).value for i, key in enumerate(KEYS, start=1)}
    assert example["policy_type"] == POLICY_TYPES[0]
    assert example["branch_code"] == BRANCHES[0]
    for key, (_, values) in _drop_downs(template).items():
        assert example[key] in values, key
    for key in REQUIRED:
        assert example[key] not in (None, ""), key
    for key in ("start_date", "end_date", "date_of_birth"):
        cell = ws.cell(row=2, column=KEYS.index(key) + 1)
        assert cell.value.date() == date.fromisoformat(by_key(key).example)
        assert cell.number_format == "yyyy-mm-dd"
        assert ws.column_dimensions[_column_letter(ws, key)].number_format == "yyyy-mm-dd"
    premium = ws.cell(row=2, column=KEYS.index("premium_amount") + 1)
    assert premium.number_format == "0.00" and float(premium.value) == 12500.0
    assert ws.column_dimensions[_column_letter(ws, "premium_amount")].number_format == "0.00"
    assert all(ws.column_dimensions[_column_letter(ws, key)].width >= len(key) for key in KEYS)


def test_instructions_explain_every_column_and_the_rules(template: Any) -> None:
    rows = [[cell for cell in row if cell is not None] for row in template["Instructions"].iter_rows(values_only=True)]
    text = "\n".join(" | ".join(str(cell) for cell in row) for row in rows)
    by_column = {row[0]: row for row in rows if row and row[0] in KEYS}
    assert set(by_column) == set(KEYS)
    for key, row in by_column.items():
        column = by_key(key)
        assert column.label in row
        assert ("Required" if column.required else "Optional") in row
    assert ", ".join(POLICY_TYPES) in by_column["policy_type"]
    assert ", ".join(by_key("status").choices) in by_column["status"]
    assert "50 MB" in text and ".xlsx" in text and ".csv" in text
    assert "YYYY-MM-DD" in text and "DD/MM/YYYY" in text
    assert "Policy number: may be left blank" in text and "instead of duplicating" in text


def test_template_headers_round_trip_through_the_importers_matching(template: Any) -> None:
    headers = _headers(template["Policies"])
    matched = match_headers(headers)
    assert matched.index_of == {key: index for index, key in enumerate(KEYS)}
    assert matched.unknown == [] and matched.missing_required == [] and matched.duplicates == []
    assert [header_key(h) for h in headers] == [header_key(k) for k in KEYS]


def test_template_without_catalogues_still_has_the_fixed_drop_downs(tmp_path: Path) -> None:
    write_template(tmp_path / "t.xlsx", policy_types=(), branch_codes=())
    workbook = load_workbook(tmp_path / "t.xlsx")
    assert set(_drop_downs(workbook)) == {"kyc_status", "status", "priority"}
    ws = workbook["Policies"]
    assert ws.cell(row=2, column=KEYS.index("policy_type") + 1).value == by_key("policy_type").example


# --- the csv template --------------------------------------------------------------------------------


def test_csv_template_is_header_and_example_with_a_bom(tmp_path: Path) -> None:
    target = tmp_path / "template.csv"
    write_template_csv(target, policy_types=POLICY_TYPES, branch_codes=BRANCHES)
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")
    with target.open(encoding="utf-8-sig", newline="") as source:
        rows = list(csv.reader(source))
    assert len(rows) == 2
    assert rows[0] == KEYS
    example = dict(zip(rows[0], rows[1], strict=True))
    assert example["policy_type"] == "health" and example["branch_code"] == "DEL01"
    assert example["start_date"] == by_key("start_date").example
    assert match_headers(rows[0]).missing_required == []


# --- the error report --------------------------------------------------------------------------------

HEADERS = ["Policy No", "First Name", "Premium", "Start Date", "Branch"]
ERRORS = [
    RowError(2, {"Policy No": "P-1", "First Name": "", "Premium": "abc", "Start Date": "2025-12-01",
                 "Branch": "MUM01"},
             [("First Name", "is required"), ("Premium", '"abc" is not an amount')]),
    RowError(7, {"Policy No": "P-2", "First Name": "Ravi", "Premium": 1200.5, "Start Date": "31/02/2025",
                 "Branch": "XXX"},
             [("Start Date", '"31/02/2025" is not a date'), ("Branch", "unknown branch XXX"),
              ("Branch", "branch is closed")]),
    RowError(9, {"Policy No": "=SUM(A1)", "First Name": "Meera", "Premium": 10, "Start Date": date(2025, 1, 2),
                 "Branch": "DEL01"},
             [("", "duplicates row 8 (same policy number)")]),
]


def test_error_text_joins_every_reason() -> None:
    assert error_text([("Premium", "bad"), ("", "row problem")]) == "Premium: bad; row problem"


def test_xlsx_error_report_marks_the_offending_cells(tmp_path: Path) -> None:
    target = tmp_path / "errors.xlsx"
    assert write_error_report(target, HEADERS, ERRORS, fmt="xlsx") == 3
    ws: Any = load_workbook(target)["Errors"]
    assert _headers(ws) == ["Row", *HEADERS, "Errors"]
    assert ws.freeze_panes == "A2"
    assert all(cell.font.b for cell in ws[1])
    rows = list(ws.iter_rows(min_row=2))
    assert [row[0].value for row in rows] == [2, 7, 9]
    column = {header: index for index, header in enumerate(["Row", *HEADERS, "Errors"])}

    def cell(row: int, header: str) -> Any:
        return rows[row][column[header]]

    marked = {(r, h) for r in range(3) for h in HEADERS if cell(r, h).comment is not None}
    assert marked == {(0, "First Name"), (0, "Premium"), (1, "Start Date"), (1, "Branch")}
    for r, h in marked:
        assert cell(r, h).fill.fgColor.rgb.endswith("FFC7CE")
    assert cell(1, "Branch").comment.text == "unknown branch XXX\nbranch is closed"
    assert cell(0, "Premium").comment.text == '"abc" is not an amount'
    assert cell(0, "Policy No").fill.fill_type is None

    assert cell(1, "Premium").value == 1200.5
    assert cell(2, "Policy No").value == "=SUM(A1)"  # text as written, not a formula
    assert cell(2, "Start Date").value.date() == date(2025, 1, 2)
    for row, error in zip(rows, ERRORS, strict=True):
        text = row[-1].value
        for header, message in error.reasons:
            assert message in text
            if header:
                assert f"{header}: {message}" in text
    assert rows[1][-1].value == ('Start Date: "31/02/2025" is not a date; Branch: unknown branch XXX; '
                                 "Branch: branch is closed")


def test_csv_error_report_has_the_same_columns(tmp_path: Path) -> None:
    target = tmp_path / "errors.csv"
    assert write_error_report(target, HEADERS, ERRORS, fmt="csv") == 3
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")
    with target.open(encoding="utf-8-sig", newline="") as source:
        rows = list(csv.reader(source))
    assert rows[0] == ["Row", *HEADERS, "Errors"]
    assert rows[1] == ["2", "P-1", "", "abc", "2025-12-01", "MUM01",
                       'First Name: is required; Premium: "abc" is not an amount']
    assert rows[2][3] == "1200.5"
    assert rows[3] == ["9", "=SUM(A1)", "Meera", "10", "2025-01-02", "DEL01", "duplicates row 8 (same policy number)"]


def test_error_report_headers_rematch_for_a_reupload(tmp_path: Path) -> None:
    """A corrected report can be uploaded again: its Row and Errors columns are merely unknown."""
    headers = ["policy_number", "first_name", "last_name", "policy_type", "premium_amount", "start_date",
               "end_date"]
    target = tmp_path / "errors.csv"
    write_error_report(target, headers, [RowError(3, {}, [("", "bad")])], fmt="csv")
    with target.open(encoding="utf-8-sig", newline="") as source:
        header = next(csv.reader(source))
    matched = match_headers(header)
    assert matched.unknown == ["Row", "Errors"] and matched.missing_required == []


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        OpenpyxlWorkbookWriter().write_error_report(tmp_path / "x", HEADERS, ERRORS, fmt="pdf")


def test_adapter_satisfies_the_port(tmp_path: Path) -> None:
    port: WorkbookWriter = OpenpyxlWorkbookWriter(max_bytes=10 * 2**20)
    port.write_template(tmp_path / "t.xlsx", policy_types=POLICY_TYPES, branch_codes=BRANCHES)
    rows = load_workbook(tmp_path / "t.xlsx")["Instructions"].iter_rows(values_only=True)
    assert any("10 MB" in str(row[0]) for row in rows)
    assert port.write_error_report(tmp_path / "e.csv", HEADERS, ERRORS, fmt="csv") == 3


def test_a_30000_row_report_is_streamed(tmp_path: Path) -> None:
    headers = [f"col{i}" for i in range(8)]
    count = 30_000

    def errors() -> Any:
        for n in range(count):
            cells = {h: f"v{n}-{i}" for i, h in enumerate(headers)}
            yield RowError(n + 2, cells, [("col3", f"bad {n}"), ("", "row")])

    target = tmp_path / "big.xlsx"
    assert write_error_report(target, headers, errors(), fmt="xlsx") == count
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()  # the importer's reader
    assert rows[0] == ["Row", *headers, "Errors"]
    assert len(rows) - 1 == count
    assert rows[-1] == [count + 1, *(f"v{count - 1}-{i}" for i in range(8)), f"col3: bad {count - 1}; row"]
    with zipfile.ZipFile(target) as archive:
        comments = next(n for n in archive.namelist() if n.startswith("xl/comments"))
        assert archive.read(comments).count(b"<comment ") == MAX_COMMENTS  # then fills only
