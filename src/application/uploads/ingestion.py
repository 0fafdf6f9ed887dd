"""The worker's half of an upload: stream the rows, validate, write batch by batch, report progress.

Memory stays flat: rows are read lazily and decided in batches of `batch_rows`; each batch is written with
its refused rows, the counts and the checkpoint (the last row decided) in one transaction, so a worker
killed at any moment resumes after the last committed batch with nothing lost or written twice. The next
batch is read and validated in a thread while the database writes the current one (at most two batches in
memory): reading and validating cost about as much as writing, so an upload takes the longer of the two
rather than their sum (benchmarks/bench_uploads.py). Rows up to
the checkpoint are read and validated again on resume (not written), so that duplicate policy numbers are
still caught across the restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from application.ports.uow import Job
from application.shared.visibility import EVERYTHING
from application.uploads.config import UploadsConfig
from application.uploads.job_names import INGEST_UPLOAD
from application.uploads.ports import BookWriter, FileStorage, ProgressPublisher, UploadLocks, UploadsUnitOfWork
from application.uploads.spreadsheets import FileInspector
from application.uploads.views import public_upload_id
from domain.shared.clock import Clock
from domain.shared.contact import PhoneNumberNormaliser
from domain.shared.events import EventRecorder
from domain.uploads.events import UploadFinished
from domain.uploads.headers import match_headers
from domain.uploads.model import BookRow, RowError, Upload, UploadStatus
from domain.uploads.rows import RowValidator

__all__ = ["IngestionService"]

log = logging.getLogger("uploads")
Rows = Iterator[tuple[int, list[object]]]


@dataclass
class _Batch:
    good: list[BookRow] = field(default_factory=list)
    bad: list[RowError] = field(default_factory=list)
    last_row: int = 0
    exhausted: bool = False


def _next_batch(rows: Rows, validator: RowValidator, *, replay_until: int, size: int, last_row: int) -> _Batch:
    """Decide up to `size` rows after the checkpoint; rows up to `replay_until` are validated and dropped."""
    batch = _Batch(last_row=last_row)
    for row_number, cells in rows:
        decided = validator.validate(row_number, cells)
        batch.last_row = row_number
        if row_number <= replay_until or decided is None:
            continue
        if isinstance(decided, RowError):
            batch.bad.append(decided)
        else:
            batch.good.append(decided)
        if len(batch.good) + len(batch.bad) >= size:
            return batch
    batch.exhausted = True
    return batch


class IngestionService:
    def __init__(
        self, *, uow: Callable[[], UploadsUnitOfWork], storage: FileStorage, inspector: FileInspector,
        book: BookWriter, progress: ProgressPublisher, phones: PhoneNumberNormaliser, clock: Clock,
        config: UploadsConfig, new_key: Callable[[], str], locks: UploadLocks,
    ) -> None:
        self._uow = uow
        self._storage = storage
        self._inspector = inspector
        self._book = book
        self._progress = progress
        self._phones = phones
        self._clock = clock
        self._config = config
        self._new_key = new_key
        self._locks = locks

    async def ingest(self, upload_id: int) -> str:
        """Import the upload (or resume it); answers its final status. Safe to run again at any time: a run
        that finds another one holding the upload's lock leaves it to that one ("busy")."""
        async with self._locks.hold(upload_id) as mine:
            if not mine:
                return "busy"
            return await self._ingest(upload_id)

    async def resume_stalled(self, *, idle_seconds: float | None = None) -> int:
        """Queue again every upload still processing with no batch committed for `idle_seconds` (its worker
        was killed or its job lost); how many were queued. A run that is alive keeps its lock, so a queued
        duplicate ends at once as "busy"."""
        idle = self._config.stall_seconds if idle_seconds is None else idle_seconds
        before = self._clock.now() - timedelta(seconds=idle)
        minute = int(self._clock.now().timestamp() // 60)
        async with self._uow() as uow:
            stalled = await uow.uploads.stalled(before)
            for upload_id in stalled:
                uow.outbox.add(Job(name=INGEST_UPLOAD, args={"upload_id": upload_id},
                                   key=f"upload-{upload_id}-resume-{minute}"))
            await uow.commit()
        return len(stalled)

    async def _ingest(self, upload_id: int) -> str:
        async with self._uow() as uow:
            upload = await uow.uploads.get_for_update(upload_id)
            if upload is None or upload.status.finished:
                return "missing" if upload is None else str(upload.status)
            if upload.processing_started_at is None:
                upload.processing_started_at = self._clock.now()
                await uow.uploads.save(upload)
            await uow.commit()
        local = Path(self._config.work_dir) / f"ingest-{upload_id}-{self._new_key()}.{upload.file_type}"
        local.parent.mkdir(parents=True, exist_ok=True)
        try:
            await self._storage.fetch_to(upload.filename, local)
            return await self._ingest_file(upload, local)
        finally:
            local.unlink(missing_ok=True)

    async def _ingest_file(self, upload: Upload, local: Path) -> str:
        assert upload.id is not None
        try:
            reader = await asyncio.to_thread(self._inspector.open, local, upload.file_type)
        except Exception as exc:  # a file that was readable at acceptance and is not now: fail it, clearly
            return await self._fail(upload, f"the file could not be read: {exc}")
        reading: asyncio.Future[_Batch] | None = None
        try:
            reference = await self._book.reference_data()
            validator = RowValidator(match_headers(reader.header), policy_types=self._config.policy_types,
                                     branch_ids=reference.branch_ids, agent_ids=reference.agent_ids,
                                     phones=self._phones, today=self._clock.today())
            rows = reader.rows()
            started, last_event = time.monotonic(), 0.0
            done_this_run = 0
            checkpoint = resume_after = upload.processed_records
            last_row = 1

            def read_next(after: int) -> asyncio.Future[_Batch]:
                """The next batch, decided in a thread: while one batch is written the next is read."""
                return asyncio.ensure_future(asyncio.to_thread(
                    _next_batch, rows, validator, replay_until=resume_after, size=self._config.batch_rows,
                    last_row=after))

            reading = read_next(last_row)
            while True:
                try:
                    batch = await reading
                except Exception as exc:
                    return await self._fail(upload, f"reading stopped at row {last_row + 1}: {exc}")
                last_row = batch.last_row
                if not batch.exhausted:
                    reading = read_next(last_row)
                if batch.good or batch.bad or (batch.exhausted and last_row > checkpoint):
                    written = await self._book.write_batch(upload, batch.good, batch.bad, checkpoint=last_row,
                                                           today=self._clock.today(), now=self._clock.now())
                    log.debug("upload %s batch written: %d rows, %d refused, %d policies inserted", upload.id,
                              len(batch.good), len(batch.bad), written.policies_inserted)
                    upload.processed_records = checkpoint = last_row
                    upload.successful_records += len(batch.good)
                    upload.failed_records += len(batch.bad)
                    done_this_run += len(batch.good) + len(batch.bad)
                if batch.exhausted:
                    break
                if time.monotonic() - last_event >= min(self._config.progress_interval, 0.5):
                    last_event = time.monotonic()
                    await self._publish(upload, done_this_run, last_event - started)
                if await self._cancel_requested(upload.id):
                    break
            return await self._finish(upload.id, time.monotonic() - started)
        finally:
            try:
                if reading is not None and not reading.done():
                    await asyncio.wait([reading])  # its thread still reads: let it finish before closing
            finally:
                if reading is not None and reading.done() and not reading.cancelled():
                    reading.exception()  # a batch read ahead and not used: nothing to report
                reader.close()

    async def _cancel_requested(self, upload_id: int) -> bool:
        async with self._uow() as uow:
            current = await uow.uploads.get(upload_id, EVERYTHING)
        return current is not None and current.cancel_requested

    async def _publish(self, upload: Upload, done: int, seconds: float) -> None:
        if upload.uploaded_by is None or upload.id is None:
            return
        decided = upload.successful_records + upload.failed_records
        rate = done / seconds if seconds > 0 else 0.0
        remaining = max(0, upload.total_records - decided)
        await self._progress.publish(upload.uploaded_by, "upload.progress", {
            "uploadId": public_upload_id(upload.id), "processed": decided,
            "succeeded": upload.successful_records, "failed": upload.failed_records,
            "total": upload.total_records, "rate": round(rate, 1),
            "eta": round(remaining / rate, 1) if rate > 0 else None})

    async def _finish(self, upload_id: int, seconds: float) -> str:
        async with self._uow() as uow:
            upload = await uow.uploads.get_for_update(upload_id)
            assert upload is not None and upload.id is not None
            if upload.status.finished:
                return str(upload.status)
            upload.finish(self._clock.now())
            if upload.status is UploadStatus.COMPLETED:  # every row was read: the estimate becomes exact; a
                # cancelled upload keeps the file's estimate, so it shows how much was left undone
                upload.total_records = upload.successful_records + upload.failed_records
            await uow.uploads.save(upload)
            recorder = EventRecorder()
            recorder.record(UploadFinished(upload_id=upload.id, status=str(upload.status),
                                           successful_records=upload.successful_records,
                                           failed_records=upload.failed_records, seconds=round(seconds, 3)))
            uow.track(recorder)
            await uow.commit()
        await self._announce(upload, "upload.completed")
        return str(upload.status)

    async def _fail(self, upload: Upload, reason: str) -> str:
        assert upload.id is not None
        async with self._uow() as uow:
            current = await uow.uploads.get_for_update(upload.id)
            if current is None or current.status.finished:
                return "missing" if current is None else str(current.status)
            current.fail(reason[:1000], self._clock.now())
            await uow.uploads.save(current)
            await uow.commit()
        await self._announce(current, "upload.failed")
        return str(current.status)

    async def _announce(self, upload: Upload, event_type: str) -> None:
        if upload.uploaded_by is None or upload.id is None:
            return
        await self._progress.publish(upload.uploaded_by, event_type, {
            "uploadId": public_upload_id(upload.id), "status": str(upload.status),
            "processed": upload.successful_records + upload.failed_records, "succeeded": upload.successful_records,
            "failed": upload.failed_records, "total": upload.total_records, "error": upload.error})
