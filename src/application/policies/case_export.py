"""Case-list exports (CSV, XLSX, PDF): the cases the caller may see, with the case list's filters.

Rows are read in batches (`CaseExportRows.batches`, a keyset walk in renewal-date order) and handed to a
`CaseListWriter` as they come, so a CSV export streams and never holds the whole list. A writer may cap its rows
(PDF: 10,000); it is given one row more than its cap to know it had to cut, and says so in the file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Protocol

import msgspec

from application.policies.ports import CaseFilters
from application.shared.visibility import Visibility
from domain.shared.clock import Clock
from domain.shared.errors import ValidationFailed

__all__ = ["COLUMNS", "CaseExportRows", "CaseExportService", "CaseListWriter", "ExportFile", "ExportMeta",
           "ExportRow", "safe_text"]

COLUMNS = ("Case number", "Policy number", "Customer", "Status", "Priority", "Assignee", "Renewal date", "Amount",
           "Currency", "Payment status", "Attempts", "Last contact")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | Decimal | int | date | datetime | None


def safe_text(value: str) -> str:
    """Text a spreadsheet will not run: a cell starting like a formula gets a leading quote (OWASP CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


class ExportRow(msgspec.Struct, frozen=True, kw_only=True):
    case_number: str
    policy_number: str
    customer_name: str
    status: str
    priority: str
    assignee: str | None  # the assignee's name
    renewal_date: date
    renewal_amount: Decimal
    currency: str
    payment_status: str
    communication_attempts: int
    last_contact_date: datetime | None  # in the business time zone once it reaches a writer

    def cells(self) -> tuple[Cell, ...]:
        """The row's values in `COLUMNS` order."""
        return (self.case_number, self.policy_number, self.customer_name, self.status, self.priority, self.assignee,
                self.renewal_date, self.renewal_amount, self.currency, self.payment_status,
                self.communication_attempts, self.last_contact_date)


class ExportMeta(msgspec.Struct, frozen=True, kw_only=True):
    title: str
    generated_at: datetime  # in the business time zone
    filters: str  # the filters and scope in words, for the file's header
    max_rows: int | None  # the writer's cap, if any


class CaseExportRows(Protocol):
    def batches(self, filters: CaseFilters, visibility: Visibility, *, limit: int | None,
                batch_size: int) -> AsyncIterator[list[ExportRow]]:
        """The visible cases matching `filters`, in (renewal date, id) order, `batch_size` at a time, at most
        `limit` rows in all (None: every row)."""
        ...


class CaseListWriter(Protocol):
    media_type: str
    extension: str
    max_rows: int | None  # None: no cap

    def write(self, batches: AsyncIterator[list[ExportRow]], meta: ExportMeta) -> AsyncIterator[bytes]:
        """The file's bytes, in pieces; `batches` may hold one row more than `max_rows` (the sign it was cut)."""
        ...


@dataclass(frozen=True)
class ExportFile:
    filename: str
    media_type: str
    chunks: AsyncIterator[bytes]


def describe(filters: CaseFilters, visibility: Visibility) -> str:
    """The filters and the scope in a line, e.g. `status: new, contacted; scope: own cases`."""
    parts = []
    for name in filters.__struct_fields__:
        value = getattr(filters, name)
        if value in (None, ()):
            continue
        shown = ", ".join(str(v) for v in value) if isinstance(value, tuple) else str(value)
        parts.append(f"{name.replace('_', ' ')}: {shown}")
    scope = {"all": "all cases", "branch": "branch cases", "own": "own cases"}[visibility.reach]
    return "; ".join([*parts, f"scope: {scope}"])


class CaseExportService:
    def __init__(self, *, rows: CaseExportRows, writers: Mapping[str, CaseListWriter], clock: Clock,
                 timezone: tzinfo, batch_size: int = 500) -> None:
        self._rows = rows
        self._writers = dict(writers)
        self._clock = clock
        self._tz = timezone
        self._batch_size = batch_size

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(self._writers)

    def export(self, fmt: str, filters: CaseFilters, visibility: Visibility) -> ExportFile:
        """The export's file; nothing is read until its chunks are consumed. An unknown format is refused."""
        writer = self._writers.get(fmt)
        if writer is None:
            raise ValidationFailed.on("format", f"must be one of {', '.join(self._writers)}")
        now = self._clock.now().astimezone(self._tz)
        meta = ExportMeta(title="Renewal cases", generated_at=now, filters=describe(filters, visibility),
                          max_rows=writer.max_rows)
        limit = None if writer.max_rows is None else writer.max_rows + 1
        batches = self._local(self._rows.batches(filters, visibility, limit=limit, batch_size=self._batch_size))
        return ExportFile(filename=f"renewal-cases-{now:%Y%m%d-%H%M}.{writer.extension}",
                          media_type=writer.media_type, chunks=writer.write(batches, meta))

    async def _local(self, batches: AsyncIterator[list[ExportRow]]) -> AsyncIterator[list[ExportRow]]:
        """Last-contact times in the business time zone."""
        async for batch in batches:
            yield [r if r.last_contact_date is None
                   else msgspec.structs.replace(r, last_contact_date=r.last_contact_date.astimezone(self._tz))
                   for r in batch]
