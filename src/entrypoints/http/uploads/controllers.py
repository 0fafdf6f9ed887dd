"""Policy-book uploads: /api/upload/* (the specification's paths)."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import PathParameter, QueryParameter
from litestar.response import File, Stream

from application.identity.principal import Principal
from application.uploads.errors import UnreadableFile
from application.uploads.ports import UploadFilters
from application.uploads.service import IncomingFile, Uploader, UploadService
from application.uploads.views import UploadAccepted, UploadView
from domain.identity.permissions import Permission as P
from domain.uploads.model import UploadStatus
from entrypoints.http.deps import container_of
from entrypoints.http.envelope import Envelope, Pagination, error_responses, ok, pagination_of
from entrypoints.http.guard import principal_of, requires
from entrypoints.http.ids import path_id
from entrypoints.http.lists import enum_values, id_values, page_request
from entrypoints.http.params import Csv, Limit, Page, Sort
from entrypoints.http.uploads.multipart import receive_upload

__all__ = ["UploadController", "upload_controller"]

ENVELOPE = 2**20  # room for the multipart envelope and the form's other fields
MAX_BODY = 50 * 2**20 + ENVELOPE  # the default UPLOAD_MAX_MB; upload_controller() sets a deployment's own
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Uploads = NamedDependency[UploadService]
Caller = NamedDependency[Principal]
Ident = Annotated[str, PathParameter(description="Public id such as `upload-12`, or the bare number")]
Format = Annotated[Literal["xlsx", "csv"], QueryParameter(description="`xlsx` (default) or `csv`")]
UPLOAD_SORT = ("createdAt", "originalFilename", "status")


class _UploadOperation(Operation):
    """Documents the multipart body the handler parses itself (see `multipart.py`)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(required=True, content={"multipart/form-data": OpenAPIMediaType(schema=Schema(
            type=OpenAPIType.OBJECT, required=["file"], properties={
                "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY,
                               description="The policy book, .xlsx or .csv"),
                "metadata": Schema(type=OpenAPIType.STRING, description='JSON such as {"description": "May book"}'),
                "filename": Schema(type=OpenAPIType.STRING, description="The file's name, if the part has none"),
            }))})


class UploadHistory(msgspec.Struct, kw_only=True):
    uploads: list[UploadView]
    pagination: Pagination


def _uploads(state: State) -> UploadService:
    service: UploadService = container_of(state).uploads.service()
    return service


def _description(metadata: str | None) -> str | None:
    if not metadata:
        return None
    try:
        parsed = msgspec.json.decode(metadata)
    except msgspec.DecodeError:
        raise UnreadableFile("metadata must be a JSON object such as {\"description\": \"...\"}") from None
    value = parsed.get("description") if isinstance(parsed, dict) else None
    return value if isinstance(value, str) else None


def _temp_path(directory: str, prefix: str, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
    os.close(fd)
    return Path(name)


def _scratch(state: State) -> str:
    directory = Path(container_of(state).settings.data_dir) / "tmp"
    directory.mkdir(parents=True, exist_ok=True)
    return str(directory)


class UploadController(Controller):
    path = "/api/upload"
    tags = ["uploads"]
    # Litestar answers 413 as soon as a body passes this, before the file is spooled; only POST /file reads one
    request_max_body_size = MAX_BODY
    dependencies = {"uploads": Provide(_uploads, sync_to_thread=False),
                    "principal": Provide(principal_of, sync_to_thread=False)}

    @post("/file", opt=requires(P.UPLOADS_CREATE), status_code=202, operation_class=_UploadOperation,
          responses=error_responses(400, 409, 413, 415, 422))
    async def upload_file(
        self, request: Request[object, object, State], uploads: Uploads, principal: Caller, state: State,
        force: Annotated[bool, QueryParameter(description="Import again a file uploaded before")] = False,
    ) -> Envelope[UploadAccepted]:
        """Accept an xlsx or csv policy book (multipart: `file`, optional `metadata` JSON and `filename`);
        hostile or unusable files are refused here, before any row is read. The rows are imported in the
        background: follow `GET /status/{uploadId}` or `upload.progress` events on the WebSocket `/api/ws`."""
        received = await receive_upload(request.headers.get("content-type", ""), request.stream(), _scratch(state))
        try:
            incoming = IncomingFile(path=received.path, filename=received.filename, size=received.size,
                                    sha256=received.sha256)
            accepted = await uploads.accept(Uploader(user_id=principal.user_id, branch_id=principal.branch_id),
                                            incoming, description=_description(received.fields.get("metadata")),
                                            force=force)
        finally:
            received.path.unlink(missing_ok=True)
        return ok(accepted)

    @get("/status/{upload_id:str}", opt=requires(P.UPLOADS_READ), responses=error_responses(404))
    async def upload_status(self, upload_id: Ident, uploads: Uploads, principal: Caller) -> Envelope[UploadView]:
        """Counts, processing time and the download link of one upload."""
        return ok(await uploads.status(principal.visibility(P.UPLOADS_READ), path_id(upload_id, "upload")))

    @get("/history", opt=requires(P.UPLOADS_READ), responses=error_responses(422),
         description=f"Sort whitelist: {', '.join(UPLOAD_SORT)}; default `-createdAt`.")
    async def upload_history(
        self, uploads: Uploads, principal: Caller, page: Page = 1, limit: Limit = 20, sort: Sort = None,
        status: Csv = None, uploader: Csv = None,
        created_from: Annotated[date | None, QueryParameter(name="from", description="Uploaded on or after")] = None,
        created_to: Annotated[date | None, QueryParameter(name="to", description="Uploaded on or before")] = None,
    ) -> Envelope[UploadHistory]:
        """The uploads the caller may see (their own, their branch's or all, by their role)."""
        request = page_request(page, limit, sort, UPLOAD_SORT, "-createdAt")
        filters = UploadFilters(status=enum_values(status, UploadStatus, "status"),
                                uploaded_by=id_values(uploader, "user", "uploader"),
                                created_from=created_from, created_to=created_to)
        result = await uploads.history(principal.visibility(P.UPLOADS_READ), filters, request)
        return ok(UploadHistory(uploads=result.items, pagination=pagination_of(result)))

    @get("/download/{upload_id:str}", opt=requires(P.UPLOADS_READ), responses=error_responses(404))
    async def download_original(self, upload_id: Ident, uploads: Uploads, principal: Caller) -> Stream:
        """The original file as uploaded."""
        upload, chunks = await uploads.original(principal.visibility(P.UPLOADS_READ), path_id(upload_id, "upload"))
        media = XLSX if upload.file_type == "xlsx" else "text/csv"
        return Stream(chunks, media_type=media, headers={
            "Content-Disposition": _attachment(upload.original_filename)})

    @get("/{upload_id:str}/errors", opt=requires(P.UPLOADS_READ), responses=error_responses(404))
    async def error_report(self, upload_id: Ident, uploads: Uploads, principal: Caller, state: State,
                           format: Format = "xlsx") -> File:
        """The refused rows with their original columns, an `Errors` column and a comment on each bad cell."""
        target = _temp_path(_scratch(state), "errors-", f".{format}")
        upload = await uploads.error_report(principal.visibility(P.UPLOADS_READ), path_id(upload_id, "upload"),
                                           target, fmt=format)
        stem = upload.original_filename.rsplit(".", 1)[0]
        return File(target, filename=f"{stem}-errors.{format}", media_type=XLSX if format == "xlsx" else "text/csv",
                    background=BackgroundTask(target.unlink, missing_ok=True))

    @post("/{upload_id:str}/cancel", opt=requires(P.UPLOADS_CREATE), status_code=200,
          responses=error_responses(404, 409))
    async def cancel_upload(self, upload_id: Ident, uploads: Uploads, principal: Caller) -> Envelope[UploadView]:
        """Stop the import at the next batch; rows already committed stay."""
        return ok(await uploads.cancel(principal.visibility(P.UPLOADS_READ), principal.user_id,
                                       path_id(upload_id, "upload")))

    @get("/template", opt=requires(P.UPLOADS_READ))
    async def upload_template(self, uploads: Uploads, state: State, format: Format = "xlsx") -> File:
        """The upload template: required columns marked, drop-downs, an example row and instructions."""
        target = _temp_path(_scratch(state), "template-", f".{format}")
        await uploads.template(target, fmt=format)
        return File(target, filename=f"policy_upload_template.{format}",
                    media_type=XLSX if format == "xlsx" else "text/csv",
                    background=BackgroundTask(target.unlink, missing_ok=True))


def upload_controller(max_bytes: int) -> type[UploadController]:
    """The controller with the body limit of a deployment's UPLOAD_MAX_MB (`max_bytes`) plus the envelope."""
    return type("UploadController", (UploadController,), {"request_max_body_size": max_bytes + ENVELOPE})


def _attachment(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'")
    return f'attachment; filename="{ascii_name}"'
