"""GET /api/cases/{id}/timeline and GET /api/cases/export: read-only views over the cases a caller may see."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import PathParameter, QueryParameter
from litestar.response import Stream

from application.identity.principal import Principal
from application.policies.case_export import CaseExportService
from application.policies.ports import CaseFilters
from application.policies.timeline import CaseTimeline, TimelineService
from domain.identity.permissions import Permission as P
from domain.policies.model import CasePriority, CaseStatus
from entrypoints.http.deps import container_of
from entrypoints.http.envelope import Envelope, error_responses, ok
from entrypoints.http.guard import principal_of, requires
from entrypoints.http.ids import path_id
from entrypoints.http.lists import enum_values, id_values
from entrypoints.http.params import Csv, Search

__all__ = ["CaseViewsController"]

Ident = Annotated[str, PathParameter(description="Public id such as `case-7`, or the bare number")]
FormatQ = Annotated[str, QueryParameter(description="`csv` (default, streamed), `xlsx` or `pdf` (first 10,000)")]
FromQ = Annotated[date | None, QueryParameter(name="renewalFrom", description="Renewal date on or after (YYYY-MM-DD)")]
ToQ = Annotated[date | None, QueryParameter(name="renewalTo", description="Renewal date on or before (YYYY-MM-DD)")]
Timelines = NamedDependency[TimelineService]
Exports = NamedDependency[CaseExportService]
Caller = NamedDependency[Principal]


def provide_timelines(state: State) -> TimelineService:
    service: TimelineService = container_of(state).case_views.timeline()
    return service


def provide_exports(state: State) -> CaseExportService:
    service: CaseExportService = container_of(state).case_views.exports()
    return service


def _attachment(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'")
    return f'attachment; filename="{ascii_name}"'


class CaseViewsController(Controller):
    path = "/api/cases"
    tags = ["cases"]
    dependencies = {"timelines": Provide(provide_timelines, sync_to_thread=False),
                    "exports": Provide(provide_exports, sync_to_thread=False),
                    "principal": Provide(principal_of, sync_to_thread=False)}

    @get("/export", opt=requires(P.CASES_READ), responses=error_responses(422),
         description="The case list's filters and the caller's scope; CSV is streamed, XLSX and PDF are capped.")
    async def export_cases(self, exports: Exports, principal: Caller, format: FormatQ = "csv",
                           status: Csv = None, priority: Csv = None, assignee: Csv = None, batch: Csv = None,
                           renewal_from: FromQ = None, renewal_to: ToQ = None, q: Search = None) -> Stream:
        """Export the renewal cases the caller may see, as a file (CSV, XLSX or PDF)."""
        filters = CaseFilters(
            status=enum_values(status, CaseStatus, "status"), priority=enum_values(priority, CasePriority, "priority"),
            assigned_to=id_values(assignee, "user", "assignee"), batch_id=id_values(batch, "batch", "batch"),
            renewal_from=renewal_from, renewal_to=renewal_to, q=q)
        export = exports.export(format.strip().lower(), filters, principal.visibility(P.CASES_READ))
        return Stream(export.chunks, media_type=export.media_type,
                      headers={"Content-Disposition": _attachment(export.filename), "Cache-Control": "no-store"})

    @get("/{case_id:str}/timeline", opt=requires(P.CASES_READ), responses=error_responses(404))
    async def case_timeline(self, case_id: Ident, timelines: Timelines, principal: Caller) -> Envelope[CaseTimeline]:
        """Everything that happened on the case, oldest first: status changes, notes, assignments, escalations,
        messages and reminders, payments and refunds, the term kept at renewal."""
        return ok(await timelines.timeline(path_id(case_id, "case"), principal.visibility(P.CASES_READ)))
