"""The header row of a policy book: which cell holds which column of the upload schema."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from domain.shared.errors import FieldError, ValidationFailed
from domain.uploads.columns import UPLOAD_COLUMNS, ColumnKind, header_key

__all__ = ["HeaderMap", "match_headers"]


def _match_table() -> dict[str, str]:
    """header_key (and its form without spaces) of each column's key, label and aliases -> column key."""
    table: dict[str, str] = {}
    for column in UPLOAD_COLUMNS:
        for name in (column.key, column.label, *column.aliases):
            spaced = header_key(name)
            for form in (spaced, spaced.replace(" ", "")):
                taken = table.setdefault(form, column.key)
                if taken != column.key:  # a schema mistake: fail at import, not on some user's file
                    raise RuntimeError(f"upload header {name!r} of {column.key} already names {taken}")
    return table


_MATCH = _match_table()
_REQUIRED = tuple(column.key for column in UPLOAD_COLUMNS if column.required)
_IGNORED = frozenset(column.key for column in UPLOAD_COLUMNS if column.kind is ColumnKind.IGNORED)


def _column_of(text: str) -> str | None:
    """The column key a header names, or None."""
    spaced = header_key(text)
    return (_MATCH.get(spaced) or _MATCH.get(spaced.replace(" ", ""))) if spaced else None


@dataclass(slots=True)
class HeaderMap:
    """Where each known column is in the file, and what about the header row deserves a word to the user."""

    index_of: dict[str, int]  # column key -> 0-based cell index (the first occurrence)
    headers: list[str]  # every header as written (trimmed); blank ones are "Column N"
    unknown: list[str] = field(default_factory=list)  # headers that match no column: ignored
    missing_required: list[str] = field(default_factory=list)  # keys of required columns not in the file
    duplicates: list[str] = field(default_factory=list)  # later headers naming an already matched column

    @property
    def width(self) -> int:
        """How many cells of a row are read; cells beyond the header are ignored."""
        return len(self.headers)

    def header_of(self, key: str) -> str:
        """The header as written of a column key, or the key itself when the file lacks that column."""
        index = self.index_of.get(key)
        return key if index is None else self.headers[index]

    def warnings(self) -> list[str]:
        """Human sentences for the upload's warnings: unknown columns, and repeated ones that are read.

        The frontend's template names agent_name and agent_code twice; columns the book does not store
        are not worth a warning, so their repeats are only listed in `duplicates`.
        """
        notes = [f'column "{name}" is not a known column and was ignored' for name in self.unknown]
        notes += [f'column "{name}" appears more than once; only its first occurrence is read'
                  for name in dict.fromkeys(self.duplicates) if _column_of(name) not in _IGNORED]
        return notes

    def raise_if_unusable(self) -> None:
        """Refuse a header row that names no known column, or lacks required ones (all named at once)."""
        if not self.index_of:
            raise ValidationFailed.on("header", "no recognisable columns")
        if self.missing_required:
            raise ValidationFailed([FieldError(key, "is a required column") for key in self.missing_required])


def _as_text(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def match_headers(headers: Sequence[object]) -> HeaderMap:
    """Match a header row against UPLOAD_COLUMNS by key, label or alias.

    Comparison is by `header_key` (case, spaces, underscores and punctuation do not matter), and also with
    the spaces removed ("FirstName" == "first_name"). A column named twice is read from its first
    occurrence; the later ones are listed in `duplicates`. Blank headers at the end of the row are dropped
    (spreadsheets often format a few empty columns); blank ones in between become "Column N" (1-based).
    """
    cells = list(headers)
    while cells and (cells[-1] is None or not _as_text(cells[-1])):
        cells.pop()
    written: list[str] = []
    index_of: dict[str, int] = {}
    unknown: list[str] = []
    duplicates: list[str] = []
    for index, raw in enumerate(cells):
        text = "" if raw is None else _as_text(raw)
        name = text or f"Column {index + 1}"
        written.append(name)
        key = _column_of(text) if text else None
        if key is None:
            unknown.append(name)
        elif key in index_of:
            duplicates.append(name)
        else:
            index_of[key] = index
    missing = [key for key in _REQUIRED if key not in index_of]
    return HeaderMap(index_of=index_of, headers=written, unknown=unknown, missing_required=missing,
                     duplicates=duplicates)
