"""The SQL repository of uploads: file_uploads with its upload_batches row, and the refused rows.

Reads join the uploader (`users`) for the branch-scoped visibility and `Upload.uploader_branch_id`; the scope
is a SQL condition, never a filter after the fact. The uploads context may not import the identity tables,
so `users` is named here by a lightweight `table()` of the two columns it needs.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, column, func, insert, or_, select, table, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.listing import order_by
from adapters.sqlalchemy.tables.uploads import file_uploads, upload_batches, upload_row_errors
from application.shared.pagination import Page, PageRequest, SortKey
from application.shared.visibility import Visibility
from application.uploads.ports import UploadFilters
from domain.shared.errors import NotFound, ValidationFailed
from domain.uploads.model import RowError, Upload, UploadStatus

__all__ = ["UPLOAD_SORT", "SqlAlchemyUploadRepository"]

Now = Callable[[], datetime]
_F = file_uploads.c
_B = upload_batches.c
_E = upload_row_errors.c
_users = table("users", column("id"), column("branch_id"))
_AnyRow = Row[*tuple[Any, ...]]

UPLOAD_SORT: dict[str, ColumnElement[Any]] = {
    "createdAt": _F.created_at, "originalFilename": _F.original_filename, "status": _F.upload_status,
}
DEFAULT_UPLOAD_SORT = (SortKey("createdAt", descending=True),)

_COLUMNS = (
    _F.id, _F.filename, _F.original_filename, _F.file_size, _F.file_type, _F.sha256, _F.uploaded_by,
    _users.c.branch_id.label("uploader_branch_id"), _F.description, _F.upload_status, _F.total_records,
    _F.processed_records, _F.successful_records, _F.failed_records, _B.id.label("batch_id"), _F.cancel_requested,
    _F.warnings, _F.failure_reason, _F.processing_started_at, _F.processing_completed_at, _F.created_at,
    _F.updated_at,
)
# one upload_batches row per upload, made by `add`
_FROM = (file_uploads.outerjoin(upload_batches, _B.upload_id == _F.id)
         .outerjoin(_users, _users.c.id == _F.uploaded_by))


def _upload(row: _AnyRow) -> Upload:
    data = dict(row._mapping)
    return Upload(
        id=data["id"], filename=data["filename"], original_filename=data["original_filename"],
        file_size=data["file_size"], file_type=data["file_type"], sha256=data["sha256"] or "",
        uploaded_by=data["uploaded_by"], uploader_branch_id=data["uploader_branch_id"],
        description=data["description"], status=UploadStatus(data["upload_status"]),
        total_records=data["total_records"] or 0, processed_records=data["processed_records"],
        successful_records=data["successful_records"] or 0, failed_records=data["failed_records"] or 0,
        batch_id=data["batch_id"], cancel_requested=data["cancel_requested"],
        warnings=list(data["warnings"] or []), error=data["failure_reason"],
        processing_started_at=data["processing_started_at"],
        processing_completed_at=data["processing_completed_at"], created_at=data["created_at"],
        updated_at=data["updated_at"])


def _state(upload: Upload) -> dict[str, Any]:
    """The columns `save` writes (everything an upload's life changes)."""
    return {
        "upload_status": upload.status.value, "total_records": upload.total_records,
        "processed_records": upload.processed_records, "successful_records": upload.successful_records,
        "failed_records": upload.failed_records, "cancel_requested": upload.cancel_requested,
        "warnings": list(upload.warnings), "failure_reason": upload.error, "description": upload.description,
        "processing_started_at": upload.processing_started_at,
        "processing_completed_at": upload.processing_completed_at,
    }


def visibility_condition(visibility: Visibility) -> ColumnElement[bool] | None:
    """own: uploaded by the user; branch: that, or uploaded by someone of the user's branch; all: None."""
    if visibility.reach == "all":
        return None
    mine = _F.uploaded_by == visibility.user_id
    if visibility.reach == "branch" and visibility.branch_id is not None:
        return or_(mine, _users.c.branch_id == visibility.branch_id)
    return mine


def _check_sort(sort: Sequence[SortKey]) -> None:
    for key in sort:
        if key.field not in UPLOAD_SORT:
            raise ValidationFailed.on("sort", f"cannot sort by '{key.field}'; allowed: {', '.join(UPLOAD_SORT)}")


def _day_start(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def filter_conditions(filters: UploadFilters, zone: tzinfo) -> list[ColumnElement[bool]]:
    """Creation dates are calendar days of the business time zone; `created_to` is inclusive."""
    where: list[ColumnElement[bool]] = []
    if filters.status:
        where.append(_F.upload_status.in_(filters.status))
    if filters.uploaded_by:
        where.append(_F.uploaded_by.in_(filters.uploaded_by))
    if filters.created_from is not None:
        where.append(_F.created_at >= _day_start(filters.created_from, zone))
    if filters.created_to is not None:
        where.append(_F.created_at < _day_start(filters.created_to + timedelta(days=1), zone))
    return where


class SqlAlchemyUploadRepository:
    """`now` stamps created_at and updated_at (the unit's clock); `zone` reads the list's date filters."""

    def __init__(self, session: AsyncSession, now: Now, zone: tzinfo) -> None:
        self._session = session
        self._now = now
        self._zone = zone

    async def add(self, upload: Upload) -> Upload:
        now = self._now()
        created = upload.created_at or now
        values = {"filename": upload.filename, "original_filename": upload.original_filename,
                  "file_size": upload.file_size, "file_type": upload.file_type, "sha256": upload.sha256,
                  "uploaded_by": upload.uploaded_by, "upload_path": upload.filename, **_state(upload),
                  "created_at": created, "updated_at": now}
        upload.id, upload.created_at, upload.updated_at = (await self._session.execute(
            insert(file_uploads).values(**values).returning(_F.id, _F.created_at, _F.updated_at))).one()
        upload.batch_id = (await self._session.execute(insert(upload_batches).values(
            upload_id=upload.id, file_name=upload.original_filename, uploaded_by=upload.uploaded_by,
            total_records=upload.total_records, processed_records=upload.successful_records + upload.failed_records,
            successful_records=upload.successful_records, failed_records=upload.failed_records,
            status=upload.status.value, file_path=upload.filename, created_at=created, updated_at=now,
        ).returning(_B.id))).scalar_one()
        if upload.uploaded_by is not None:
            upload.uploader_branch_id = (await self._session.execute(
                select(_users.c.branch_id).where(_users.c.id == upload.uploaded_by))).scalar_one_or_none()
        return upload

    async def get(self, upload_id: int, visibility: Visibility) -> Upload | None:
        stmt = select(*_COLUMNS).select_from(_FROM).where(_F.id == upload_id)
        scope = visibility_condition(visibility)
        if scope is not None:
            stmt = stmt.where(scope)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _upload(row)

    async def get_for_update(self, upload_id: int) -> Upload | None:
        # lock file_uploads' row only (the joined users and batch rows stay free); NO KEY UPDATE lets the
        # row error inserts that reference the upload proceed
        stmt = (select(*_COLUMNS).select_from(_FROM).where(_F.id == upload_id)
                .with_for_update(key_share=True, of=file_uploads))
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _upload(row)

    async def save(self, upload: Upload) -> None:
        now = self._now()
        row = (await self._session.execute(update(file_uploads).where(_F.id == upload.id)
                                           .values(**_state(upload), updated_at=now)
                                           .returning(_F.updated_at))).one_or_none()
        if row is None:
            raise NotFound("upload", upload.id)
        upload.updated_at = row.updated_at
        await self._session.execute(update(upload_batches).where(_B.upload_id == upload.id).values(
            status=upload.status.value, total_records=upload.total_records, updated_at=now))

    async def find_by_sha256(self, sha256: str) -> Upload | None:
        stmt = (select(*_COLUMNS).select_from(_FROM)
                .where(_F.sha256 == sha256, _F.upload_status != UploadStatus.FAILED.value)
                .order_by(_F.created_at.desc(), _F.id.desc()).limit(1))
        row = (await self._session.execute(stmt)).first()
        return None if row is None else _upload(row)

    async def list(self, filters: UploadFilters, page: PageRequest, visibility: Visibility) -> Page[Upload]:
        _check_sort(page.sort)
        where = filter_conditions(filters, self._zone)
        scope = visibility_condition(visibility)
        if scope is not None:
            where.append(scope)
        count_from = (file_uploads.outerjoin(_users, _users.c.id == _F.uploaded_by)
                      if visibility.reach == "branch" else file_uploads)
        total = (await self._session.execute(
            select(func.count()).select_from(count_from).where(*where))).scalar_one()
        stmt: Select[Any] = (select(*_COLUMNS).select_from(_FROM).where(*where)
                             .order_by(*order_by(page.sort or DEFAULT_UPLOAD_SORT, UPLOAD_SORT, _F.id))
                             .limit(page.limit).offset(page.offset))
        items = [_upload(row) for row in await self._session.execute(stmt)]
        return Page(items=items, page=page.page, limit=page.limit, total=int(total))

    async def stalled(self, updated_before: datetime) -> builtins.list[int]:
        rows = await self._session.execute(
            select(_F.id).where(_F.upload_status == UploadStatus.PROCESSING.value, _F.updated_at < updated_before)
            .order_by(_F.updated_at, _F.id))
        return [int(upload_id) for upload_id in rows.scalars()]

    async def errors(self, upload_id: int, *, after_row: int = 0, limit: int = 1000) -> builtins.list[RowError]:
        rows = await self._session.execute(
            select(_E.row_number, _E.cells, _E.reasons)
            .where(_E.upload_id == upload_id, _E.row_number > after_row)
            .order_by(_E.row_number).limit(limit))
        return [RowError(row_number=r.row_number, cells=dict(r.cells),
                         reasons=[(str(m.get("column", "")), str(m.get("message", ""))) for m in r.reasons])
                for r in rows]

