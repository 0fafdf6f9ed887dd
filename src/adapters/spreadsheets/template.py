"""The upload template: a "Policies" sheet to fill in, an "Instructions" sheet and a hidden "Lists" sheet.

Everything is read from `domain.uploads.columns.UPLOAD_COLUMNS`: the header row holds the column keys
(what the importer matches), in schema order, without the IGNORED columns of the frontend's old template.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from openpyxl import Workbook  # type: ignore[import-untyped, unused-ignore]
from openpyxl.comments import Comment  # type: ignore[import-untyped, unused-ignore]
from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped, unused-ignore]
from openpyxl.utils import get_column_letter, quote_sheetname  # type: ignore[import-untyped, unused-ignore]
from openpyxl.worksheet.datavalidation import DataValidation  # type: ignore[import-untyped, unused-ignore]
from openpyxl.worksheet.worksheet import Worksheet  # type: ignore[import-untyped, unused-ignore]

from domain.uploads.cells import DATE_FORMATS_HELP
from domain.uploads.columns import UPLOAD_COLUMNS, Column, ColumnKind

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FIRST_DATA_ROW",
    "LAST_VALIDATED_ROW",
    "TEMPLATE_COLUMNS",
    "choices_for",
    "write_template",
    "write_template_csv",
]

TEMPLATE_COLUMNS: tuple[Column, ...] = tuple(c for c in UPLOAD_COLUMNS if c.kind is not ColumnKind.IGNORED)
IGNORED_KEYS: tuple[str, ...] = tuple(c.key for c in UPLOAD_COLUMNS if c.kind is ColumnKind.IGNORED)
DEFAULT_MAX_BYTES = 50 * 2**20
FIRST_DATA_ROW = 2
LAST_VALIDATED_ROW = 10_001  # drop-downs cover rows 2..10001
POLICIES, INSTRUCTIONS, LISTS = "Policies", "Instructions", "Lists"
AUTHOR = "Renewals"
INLINE_LIST_LIMIT = 255  # Excel's limit on an inline list validation ("a,b,c")

_NUMBER_FORMATS = {ColumnKind.DATE: "yyyy-mm-dd", ColumnKind.MONEY: "0.00", ColumnKind.INTEGER: "0",
                   ColumnKind.TEXT: "@", ColumnKind.PHONE: "@"}  # "@": typed codes keep their leading zeros
_FORMATS = {
    ColumnKind.TEXT: "Text.",
    ColumnKind.NAME: "Text (a person's name).",
    ColumnKind.EMAIL: "An email address, e.g. name@example.com.",
    ColumnKind.PHONE: "A phone number in any common format, with or without the country code.",
    ColumnKind.DATE: "A date (see Dates above).",
    ColumnKind.MONEY: "A number with at most two decimals, e.g. 12500.00 (12,500 and ₹12,500 are read too).",
    ColumnKind.INTEGER: "A whole number.",
    ColumnKind.CHOICE: "One of the allowed values (pick it from the drop-down).",
    ColumnKind.JSON: "key=value pairs separated by semicolons, or a JSON object.",
}
_REQUIRED_FILL = PatternFill("solid", fgColor="FFD966")  # amber
_OPTIONAL_FILL = PatternFill("solid", fgColor="DDEBF7")  # light blue
_TABLE_FILL = PatternFill("solid", fgColor="D9D9D9")
_BOLD = Font(bold=True)


def write_template(target: Path, *, policy_types: Sequence[str], branch_codes: Sequence[str],
                   max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Write the xlsx template to `target`; the policy type and branch drop-downs list the given catalogues."""
    catalogues = _catalogues(policy_types, branch_codes)
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])
    policies: Worksheet = workbook.create_sheet(POLICIES)
    instructions: Worksheet = workbook.create_sheet(INSTRUCTIONS)
    lists: Worksheet = workbook.create_sheet(LISTS)
    lists.sheet_state = "hidden"
    _fill_policies(policies, lists, catalogues)
    _fill_instructions(instructions, catalogues, max_bytes)
    workbook.active = 0
    workbook.save(target)


def write_template_csv(target: Path, *, policy_types: Sequence[str], branch_codes: Sequence[str]) -> None:
    """The header row and the example row as CSV, UTF-8 with a byte order mark (so Excel reads it as UTF-8)."""
    catalogues = _catalogues(policy_types, branch_codes)
    with target.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([column.key for column in TEMPLATE_COLUMNS])
        writer.writerow([_example(column, catalogues) for column in TEMPLATE_COLUMNS])


def choices_for(column: Column, policy_types: Sequence[str], branch_codes: Sequence[str]) -> tuple[str, ...]:
    """The allowed values of a CHOICE column: its fixed choices, or the catalogue it names."""
    return _choices(column, _catalogues(policy_types, branch_codes))


def _catalogues(policy_types: Sequence[str], branch_codes: Sequence[str]) -> dict[str, tuple[str, ...]]:
    def clean(values: Sequence[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))

    return {"policy_types": clean(policy_types), "branches": clean(branch_codes)}


def _choices(column: Column, catalogues: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return catalogues.get(column.catalogue, ()) if column.catalogue else column.choices


def _example(column: Column, catalogues: dict[str, tuple[str, ...]]) -> str:
    """The column's example; for a catalogue column, the catalogue's first value (so it is a valid choice)."""
    choices = _choices(column, catalogues)
    if column.catalogue and choices:
        return choices[0]
    return column.example


def _typed_example(column: Column, text: str) -> str | date | Decimal | int:
    """The example as the cell value a user would type: real dates and numbers, so the formats show."""
    try:
        if column.kind is ColumnKind.DATE and text:
            return date.fromisoformat(text)
        if column.kind is ColumnKind.MONEY and text:
            return Decimal(text)
        if column.kind is ColumnKind.INTEGER and text:
            return int(text)
    except (ValueError, InvalidOperation):
        pass
    return text


def _fill_policies(ws: Worksheet, lists: Worksheet, catalogues: dict[str, tuple[str, ...]]) -> None:
    list_column = 0
    for index, column in enumerate(TEMPLATE_COLUMNS, start=1):
        letter = get_column_letter(index)
        header = ws.cell(row=1, column=index, value=column.key)
        header.fill = _REQUIRED_FILL if column.required else _OPTIONAL_FILL
        header.font = Font(bold=column.required)
        header.alignment = Alignment(horizontal="center", vertical="center")
        header.comment = _header_comment(column, catalogues)

        example = _example(column, catalogues)
        cell = ws.cell(row=FIRST_DATA_ROW, column=index, value=_typed_example(column, example))
        number_format = _NUMBER_FORMATS.get(column.kind)
        if number_format:
            cell.number_format = number_format
            ws.column_dimensions[letter].number_format = number_format  # applies to the cells users type
        ws.column_dimensions[letter].width = min(max(len(column.key), len(example), 8) + 4, 45)

        choices = _choices(column, catalogues)
        if column.kind is ColumnKind.CHOICE and choices:
            inline = ",".join(choices)
            if column.catalogue or len(inline) > INLINE_LIST_LIMIT or any("," in c or '"' in c for c in choices):
                list_column += 1
                formula = _list_range(lists, list_column, column.key, choices)
            else:
                formula = f'"{inline}"'
            _add_drop_down(ws, column, letter, formula)
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 20


def _list_range(lists: Worksheet, index: int, key: str, values: Sequence[str]) -> str:
    """Put `values` in column `index` of the Lists sheet (under a `key` header) and return its absolute range."""
    letter = get_column_letter(index)
    lists.cell(row=1, column=index, value=key).font = _BOLD
    for row, value in enumerate(values, start=2):
        lists.cell(row=row, column=index, value=value).number_format = "@"
    lists.column_dimensions[letter].width = min(max(len(v) for v in (key, *values)) + 2, 60)
    return f"{quote_sheetname(LISTS)}!${letter}$2:${letter}${len(values) + 1}"


def _add_drop_down(ws: Worksheet, column: Column, letter: str, formula: str) -> None:
    validation = DataValidation(
        type="list", formula1=formula, allow_blank=True, showDropDown=False,  # False shows the arrow
        showErrorMessage=True, errorStyle="stop", errorTitle=_cut(f"Invalid {column.label.lower()}", 32),
        error=_cut(f"Choose a {column.label.lower()} from the list.", 255),
        showInputMessage=True, promptTitle=_cut(column.label, 32),
        prompt=_cut(column.help or "Pick a value from the drop-down.", 255))
    validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{LAST_VALIDATED_ROW}")
    ws.add_data_validation(validation)


def _header_comment(column: Column, catalogues: dict[str, tuple[str, ...]]) -> Comment:
    lines = [f"{column.label} ({'required' if column.required else 'optional'})"]
    lines.append(column.help or _FORMATS.get(column.kind, ""))
    choices = _choices(column, catalogues)
    if column.kind is ColumnKind.CHOICE:
        lines.append(f"Allowed: {', '.join(choices)}" if choices else "Allowed: as configured in the system.")
    if column.aliases:
        lines.append(f"Also accepted as header: {', '.join(column.aliases)}")
    text = "\n".join(line for line in lines if line)
    comment = Comment(_cut(text, 1000), AUTHOR)
    comment.width = 320
    comment.height = 24 + 16 * sum(max(1, math.ceil(len(line) / 48)) for line in text.splitlines())
    return comment


def _fill_instructions(ws: Worksheet, catalogues: dict[str, tuple[str, ...]], max_bytes: int) -> None:
    required = ", ".join(c.key for c in TEMPLATE_COLUMNS if c.required)
    megabytes = max_bytes / 2**20
    size = f"{megabytes:g} MB" if megabytes >= 1 else f"{max_bytes} bytes"
    notes = [
        f'Fill in one policy per row on the "{POLICIES}" sheet from row 2 on, under the header row (row 1); '
        "replace or delete the example row.",
        f"Accepted files: Excel (.xlsx) or CSV (.csv, comma-separated, UTF-8), at most {size} per file.",
        f"Required columns (present and filled in on every row): {required}. Every other column may be left "
        "blank or left out.",
        "Headers are matched ignoring case, spaces and punctuation; each column's label and the alternative "
        "headers listed below are accepted too. Columns may come in any order; unknown columns are ignored "
        "with a warning.",
        f"Dates: a date cell, or text as {DATE_FORMATS_HELP.removeprefix('use ')}. Text is read day first: "
        "03/04/2025 is 3 April 2025. YYYY-MM-DD (2025-12-01) is never ambiguous.",
        "Policy number: may be left blank. A number is then derived from the customer, policy type and start "
        "date, so uploading the same book again updates its policies instead of duplicating them.",
        "Rows with errors are skipped and listed, with the reasons, in an error report you can download; the "
        "other rows are imported.",
    ]
    if IGNORED_KEYS:
        notes.append(f"Columns of the previous template that are read but not stored: {', '.join(IGNORED_KEYS)}.")

    ws.cell(row=1, column=1, value="How to fill in the policy upload template").font = Font(bold=True, size=14)
    for row, note in enumerate(notes, start=3):
        ws.cell(row=row, column=1, value=f"• {note}")

    table = len(notes) + 4
    headings = ("Column header", "Label", "Required", "Format", "Allowed values", "Notes", "Example",
                "Also accepted as header")
    for index, heading in enumerate(headings, start=1):
        cell = ws.cell(row=table, column=index, value=heading)
        cell.font, cell.fill = _BOLD, _TABLE_FILL
    for row, column in enumerate(TEMPLATE_COLUMNS, start=table + 1):
        choices = _choices(column, catalogues)
        allowed = ""
        if column.kind is ColumnKind.CHOICE:
            allowed = ", ".join(choices) if choices else "As configured in the system."
        values = (column.key, column.label, "Required" if column.required else "Optional",
                  _FORMATS.get(column.kind, ""), allowed, column.help, _example(column, catalogues),
                  ", ".join(column.aliases))
        for index, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=index, value=value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.number_format = "@"
        if column.required:
            ws.cell(row=row, column=1).font = _BOLD
    for index, width in enumerate((28, 26, 11, 40, 40, 55, 24, 36), start=1):
        ws.column_dimensions[get_column_letter(index)].width = width


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
