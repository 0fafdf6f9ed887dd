"""One place that maps every error to the api.md error envelope and a status code."""

from __future__ import annotations

import math
import uuid
from typing import Any

import msgspec
import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from application.identity.errors import AuthenticationFailed, PermissionDenied, TooManyAttempts
from application.uploads.errors import DuplicateUpload, FileRefused
from domain.shared.errors import Conflict, DomainError, InvalidTransition, NotFound, ValidationFailed
from entrypoints.http.request_id import current_request_id

__all__ = ["exception_handlers"]

log = structlog.get_logger("http")

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
          422: "validation_failed", 429: "rate_limited", 503: "service_unavailable"}


def _body(status: int, code: str, message: str, details: list[dict[str, str]] | None = None,
          **extra: Any) -> Response[Any]:
    # unmatched routes never reach the middleware: give their answer an id of its own
    request_id = current_request_id() or uuid.uuid4().hex
    error: dict[str, Any] = {"code": code, "message": message, "details": details or [], "requestId": request_id}
    error.update(extra)
    return Response({"success": False, "error": error}, status_code=status, media_type=MediaType.JSON,
                    headers={"X-Request-ID": request_id})


def _domain(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if isinstance(exc, AuthenticationFailed):
        response = _body(401, exc.code, str(exc))
        response.headers["WWW-Authenticate"] = 'Bearer realm="renewals"'
        return response
    if isinstance(exc, FileRefused):
        return _body(exc.status, exc.code, str(exc))
    if isinstance(exc, DuplicateUpload):
        return _body(409, exc.code, str(exc), uploadId=f"upload-{exc.upload_id}")
    if isinstance(exc, PermissionDenied):
        return _body(403, exc.code, str(exc))
    if isinstance(exc, TooManyAttempts):
        response = _body(429, exc.code, str(exc))
        response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return response
    if isinstance(exc, ValidationFailed):
        return _body(422, exc.code, "The request has invalid fields",
                     [{"field": d.field, "message": d.message} for d in exc.details])
    if isinstance(exc, NotFound):
        return _body(404, exc.code, str(exc))
    if isinstance(exc, InvalidTransition):
        return _body(409, exc.code, str(exc), currentStatus=exc.current)
    if isinstance(exc, Conflict):
        details = [{"field": exc.field, "message": str(exc)}] if exc.field else []
        return _body(409, exc.code, str(exc), details)
    return _body(400, exc.code, str(exc))


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Well-formed input of the wrong type or shape: 422 naming each field msgspec reported."""
    details: list[dict[str, str]] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            key = str(item.get("key") or "body").removeprefix("$.")
            message = str(item.get("message", ""))
            if key in ("data", "body", ""):  # the body as a whole: missing or not an object
                key, message = "body", "a JSON object is required" if message == "'data'" else message
            details.append({"field": key, "message": message})
    if not details:
        details.append({"field": "body", "message": str(exc.detail)})
    return _body(422, "validation_failed", "The request has invalid fields", details)


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    code = _CODES.get(status, "error")
    cause = exc.__cause__
    if status == 400 and ((isinstance(cause, msgspec.DecodeError) and not isinstance(cause, msgspec.ValidationError))
                          or "malformed" in str(exc.detail).lower() or "truncated" in str(exc.detail).lower()):
        code = "malformed_json"
    response = _body(status, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled_error", path=request.url.path, error=type(exc).__name__)
    return _body(HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "An unexpected error occurred")


exception_handlers: ExceptionHandlersMap = {
    DomainError: _domain,
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _unexpected,
}
