"""Wiring of the uploads context: the file checks and readers, the workbook writer and its two services."""

from __future__ import annotations

import secrets
from pathlib import Path

from dependency_injector import containers, providers

from adapters.spreadsheets.inspection import SpreadsheetInspector
from adapters.spreadsheets.workbooks import OpenpyxlWorkbookWriter
from application.uploads.config import UploadsConfig
from application.uploads.ingestion import IngestionService
from application.uploads.service import UploadService
from entrypoints.settings import Settings

__all__ = ["UploadsServices", "uploads_config"]


def uploads_config(settings: Settings) -> UploadsConfig:
    work_dir = Path(settings.data_dir) / "tmp"
    work_dir.mkdir(parents=True, exist_ok=True)
    return UploadsConfig(max_bytes=settings.upload_max_mb * 2**20, batch_rows=settings.upload_batch_rows,
                         stall_seconds=settings.upload_stall_seconds,
                         policy_types=settings.policy_type_list, work_dir=str(work_dir.resolve()))


def _new_key() -> str:
    return secrets.token_hex(12)


class UploadsServices(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()
    outside = providers.DependenciesContainer()

    config = providers.Singleton(uploads_config, core.settings)
    inspector = providers.Singleton(SpreadsheetInspector, max_bytes=config.provided.max_bytes)
    workbooks = providers.Singleton(OpenpyxlWorkbookWriter, max_bytes=config.provided.max_bytes)
    service = providers.Singleton(
        UploadService, uow=adapters.uploads_uow.provider, storage=outside.file_storage, inspector=inspector,
        workbooks=workbooks, book=adapters.book_writer, clock=core.clock, new_key=providers.Object(_new_key),
        config=config)
    ingestion = providers.Singleton(
        IngestionService, uow=adapters.uploads_uow.provider, storage=outside.file_storage, inspector=inspector,
        book=adapters.book_writer, progress=outside.user_events, phones=core.phones, clock=core.clock,
        config=config, new_key=providers.Object(_new_key), locks=adapters.upload_locks)
