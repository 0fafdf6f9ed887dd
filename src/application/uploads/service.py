"""Use cases of the uploads desk: accept a file, follow it, list, download, error report, cancel, template."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import msgspec

from application.ports.uow import Job
from application.shared.pagination import Page, PageRequest
from application.shared.visibility import Visibility
from application.uploads.config import UploadsConfig
from application.uploads.errors import DuplicateUpload
from application.uploads.job_names import INGEST_UPLOAD
from application.uploads.ports import BookWriter, FileStorage, UploadFilters, UploadsUnitOfWork, WorkbookWriter
from application.uploads.spreadsheets import FileInspector
from application.uploads.views import UploadAccepted, UploadView, estimate_text, public_upload_id
from domain.shared.clock import Clock
from domain.shared.errors import NotFound
from domain.shared.events import EventRecorder
from domain.uploads.events import UploadAccepted as UploadAcceptedEvent
from domain.uploads.events import UploadCancelRequested
from domain.uploads.headers import match_headers
from domain.uploads.model import Upload

__all__ = ["IncomingFile", "UploadService", "Uploader", "sha256_of"]

_CONTENT_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  "csv": "text/csv"}


class Uploader(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    branch_id: int | None


class IncomingFile(msgspec.Struct, frozen=True, kw_only=True):
    """A received file, already on local disk (the HTTP layer streams the multipart part there)."""

    path: Path
    filename: str
    size: int
    sha256: str | None = None  # hex digest, when the HTTP layer hashed the file as it spooled it


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_name(filename: str) -> str:
    """The client's file name without any directory part, at most 255 characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "upload"
    return name[-255:]


class UploadService:
    def __init__(
        self, *, uow: Callable[[], UploadsUnitOfWork], storage: FileStorage, inspector: FileInspector,
        workbooks: WorkbookWriter, book: BookWriter, clock: Clock, new_key: Callable[[], str],
        config: UploadsConfig,
    ) -> None:
        self._uow = uow
        self._storage = storage
        self._inspector = inspector
        self._workbooks = workbooks
        self._clock = clock
        self._new_key = new_key
        self._config = config
        self._book = book

    async def accept(self, uploader: Uploader, incoming: IncomingFile, *, description: str | None,
                     force: bool) -> UploadAccepted:
        """Refuse a hostile or unusable file at once; keep a good one and queue its ingestion (202)."""
        name = _safe_name(incoming.filename)
        kind = await asyncio.to_thread(self._inspector.inspect, incoming.path, name)
        preview = await asyncio.to_thread(self._inspector.peek, incoming.path, kind)
        header = match_headers(preview.header)
        header.raise_if_unusable()
        estimated = preview.estimated_rows
        warnings = [*preview.warnings, *header.warnings()]
        digest = incoming.sha256 if incoming.sha256 is not None else await asyncio.to_thread(sha256_of, incoming.path)
        async with self._uow() as uow:
            earlier = await uow.uploads.find_by_sha256(digest)
        if earlier is not None and earlier.id is not None and not force:
            raise DuplicateUpload(earlier.id)
        now = self._clock.now()
        key = f"uploads/{now:%Y/%m}/{self._new_key()}.{kind}"
        stored = await self._storage.put_file(key, incoming.path, content_type=_CONTENT_TYPES[kind], sha256=digest)
        upload = Upload(id=None, filename=key, original_filename=name, file_size=stored.size, file_type=kind,
                        sha256=digest, uploaded_by=uploader.user_id, uploader_branch_id=uploader.branch_id,
                        description=(description or "").strip()[:2000] or None, total_records=estimated,
                        warnings=warnings)
        async with self._uow() as uow:
            upload = await uow.uploads.add(upload)
            assert upload.id is not None
            uow.outbox.add(Job(name=INGEST_UPLOAD, args={"upload_id": upload.id}, key=f"upload-{upload.id}"))
            recorder = EventRecorder()
            recorder.record(UploadAcceptedEvent(
                upload_id=upload.id, uploaded_by=uploader.user_id, original_filename=name, sha256=digest,
                estimated_rows=estimated, forced=force and earlier is not None))
            uow.track(recorder)
            await uow.commit()
        return UploadAccepted(upload_id=public_upload_id(upload.id), filename=name, status=str(upload.status),
                              total_records=estimated, estimated_processing_time=estimate_text(estimated),
                              warnings=warnings)

    async def _visible(self, visibility: Visibility, upload_id: int) -> Upload:
        async with self._uow() as uow:
            upload = await uow.uploads.get(upload_id, visibility)
        if upload is None:
            raise NotFound("upload", public_upload_id(upload_id))
        return upload

    async def status(self, visibility: Visibility, upload_id: int) -> UploadView:
        return UploadView.of(await self._visible(visibility, upload_id), self._clock.now())

    async def history(self, visibility: Visibility, filters: UploadFilters, page: PageRequest) -> Page[UploadView]:
        async with self._uow() as uow:
            found = await uow.uploads.list(filters, page, visibility)
        now = self._clock.now()
        return Page(items=[UploadView.of(u, now) for u in found.items], page=found.page, limit=found.limit,
                    total=found.total, total_is_estimate=found.total_is_estimate)

    async def original(self, visibility: Visibility, upload_id: int) -> tuple[Upload, AsyncIterator[bytes]]:
        """The upload and its original file's bytes, for GET /api/upload/download/{id}."""
        upload = await self._visible(visibility, upload_id)
        return upload, self._storage.open_stream(upload.filename)

    async def error_report(self, visibility: Visibility, upload_id: int, target: Path, *, fmt: str) -> Upload:
        """Write the refused rows (original columns plus reasons) to `target` as xlsx or csv."""
        upload = await self._visible(visibility, upload_id)
        assert upload.id is not None
        headers = await self._headers(upload)
        rows = []
        after = 0
        async with self._uow() as uow:
            while batch := await uow.uploads.errors(upload.id, after_row=after, limit=5_000):
                rows.extend(batch)
                after = batch[-1].row_number
        await asyncio.to_thread(self._workbooks.write_error_report, target, headers, rows, fmt=fmt)
        return upload

    async def _headers(self, upload: Upload) -> list[str]:
        """The original file's header as written (read back from storage: the file is the source of truth)."""
        local = Path(self._config.work_dir) / f"header-{upload.id}-{self._new_key()}.{upload.file_type}"
        try:
            await self._storage.fetch_to(upload.filename, local)
            preview = await asyncio.to_thread(self._inspector.peek, local, upload.file_type)
            return match_headers(preview.header).headers
        finally:
            local.unlink(missing_ok=True)

    async def cancel(self, visibility: Visibility, actor_id: int, upload_id: int) -> UploadView:
        """Stop at the next batch boundary; what was committed stays (409 when it already finished)."""
        await self._visible(visibility, upload_id)
        async with self._uow() as uow:
            upload = await uow.uploads.get_for_update(upload_id)
            if upload is None:
                raise NotFound("upload", public_upload_id(upload_id))
            upload.request_cancel()
            await uow.uploads.save(upload)
            recorder = EventRecorder()
            recorder.record(UploadCancelRequested(upload_id=upload_id, requested_by=actor_id))
            uow.track(recorder)
            await uow.commit()
        return UploadView.of(upload, self._clock.now())

    async def template(self, target: Path, *, fmt: str) -> None:
        """The upload template, from the same column schema the validator uses, with today's catalogues."""
        branch_codes = sorted((await self._book.reference_data()).branch_ids)
        writer = self._workbooks.write_template if fmt == "xlsx" else self._workbooks.write_template_csv
        await asyncio.to_thread(writer, target, policy_types=list(self._config.policy_types),
                                branch_codes=branch_codes)
