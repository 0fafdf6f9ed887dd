"""The workbook writer of the uploads context (openpyxl): the upload template and the error report.

Module functions do the work (`template.py`, `error_report.py`); `OpenpyxlWorkbookWriter` binds them to the
`application.uploads.ports.WorkbookWriter` port.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from adapters.spreadsheets.error_report import (
    ERRORS_HEADER,
    MAX_COMMENTS,
    ROW_HEADER,
    ReportFormat,
    error_text,
    write_error_report,
)
from adapters.spreadsheets.template import (
    DEFAULT_MAX_BYTES,
    TEMPLATE_COLUMNS,
    choices_for,
    write_template,
    write_template_csv,
)
from domain.uploads.model import RowError

__all__ = [
    "ERRORS_HEADER",
    "MAX_COMMENTS",
    "ROW_HEADER",
    "TEMPLATE_COLUMNS",
    "OpenpyxlWorkbookWriter",
    "ReportFormat",
    "choices_for",
    "error_text",
    "write_error_report",
    "write_template",
    "write_template_csv",
]


class OpenpyxlWorkbookWriter:
    """`WorkbookWriter`: the files are written to local paths that the HTTP layer then streams back."""

    def __init__(self, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._max_bytes = max_bytes  # the upload size limit the instructions state

    def write_template(self, target: Path, *, policy_types: Sequence[str], branch_codes: Sequence[str]) -> None:
        write_template(target, policy_types=policy_types, branch_codes=branch_codes, max_bytes=self._max_bytes)

    def write_template_csv(self, target: Path, *, policy_types: Sequence[str],
                           branch_codes: Sequence[str]) -> None:
        write_template_csv(target, policy_types=policy_types, branch_codes=branch_codes)

    def write_error_report(self, target: Path, headers: Sequence[str], errors: Iterable[RowError], *,
                           fmt: str) -> int:
        if fmt == "xlsx":
            return write_error_report(target, headers, errors, fmt="xlsx")
        if fmt == "csv":
            return write_error_report(target, headers, errors, fmt="csv")
        raise ValueError(f"unknown error report format: {fmt!r}")
