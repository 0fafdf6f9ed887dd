"""Wiring of timeline and case-list exports."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from dependency_injector import containers, providers

from adapters.exports.csv_export import CsvCaseListWriter
from adapters.exports.pdf_export import PdfCaseListWriter
from adapters.exports.xlsx_export import XlsxCaseListWriter
from adapters.memory.case_export import InMemoryCaseExportRows
from adapters.memory.case_timeline import InMemoryCaseHeaders, memory_timeline_sources
from adapters.sqlalchemy.read_models.case_export import SqlCaseExportRows
from adapters.sqlalchemy.read_models.case_timeline import SqlCaseHeaders, sql_timeline_sources
from application.policies.case_export import CaseExportService
from application.policies.timeline import TimelineService

__all__ = ["CaseViewsMemoryAdapters", "CaseViewsServices", "CaseViewsSqlAdapters"]


class CaseViewsSqlAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # SqlAdapters: session_factory, read_pool, policies_uow ...
    timeline_headers = providers.Singleton(SqlCaseHeaders, adapters.read_pool, currency=core.settings.provided.currency)
    timeline_sources = providers.Singleton(sql_timeline_sources, adapters.read_pool,
                                           currency=core.settings.provided.currency)
    export_rows = providers.Singleton(SqlCaseExportRows, adapters.read_pool, currency=core.settings.provided.currency)


class CaseViewsMemoryAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # MemoryAdapters: store, policies_uow ...
    timeline_headers = providers.Singleton(InMemoryCaseHeaders, adapters.store,
                                           currency=core.settings.provided.currency)
    timeline_sources = providers.Singleton(memory_timeline_sources, adapters.store,
                                           currency=core.settings.provided.currency)
    export_rows = providers.Singleton(InMemoryCaseExportRows, adapters.store, currency=core.settings.provided.currency)


class CaseViewsServices(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()
    storage = providers.DependenciesContainer()  # CaseViewsSqlAdapters or CaseViewsMemoryAdapters
    outside = providers.DependenciesContainer()  # job_queue, user_events, email_sender, file_storage
    bridges = providers.DependenciesContainer()  # Bridges: case_messenger ...
    timeline = providers.Singleton(TimelineService, headers=storage.timeline_headers, sources=storage.timeline_sources)
    writers = providers.Dict(csv=providers.Singleton(CsvCaseListWriter), xlsx=providers.Singleton(XlsxCaseListWriter),
                             pdf=providers.Singleton(PdfCaseListWriter))
    exports = providers.Singleton(
        CaseExportService, rows=storage.export_rows, writers=writers, clock=core.clock,
        timezone=providers.Singleton(ZoneInfo, core.settings.provided.business_timezone))
