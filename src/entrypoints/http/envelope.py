"""The success envelope, list pagination and the JSON response that writes money as numbers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import msgspec
from litestar import Response
from litestar.openapi.datastructures import ResponseSpec
from litestar.serialization import default_serializer

from application.shared.pagination import Page
from domain.shared.ids import EntityId

__all__ = ["Envelope", "ErrorBody", "JsonResponse", "Pagination", "error_responses", "ok", "pagination_of"]

T = TypeVar("T")


class Envelope(msgspec.Struct, Generic[T]):
    """`{"success": true, "data": ...}` as api.md requires."""

    data: T
    success: bool = True


class Pagination(msgspec.Struct, rename="camel", kw_only=True):
    page: int
    limit: int
    total: int
    total_pages: int
    total_is_estimate: bool = False


def ok(data: T) -> Envelope[T]:
    return Envelope(data=data)


def pagination_of(page: Page[Any]) -> Pagination:
    return Pagination(page=page.page, limit=page.limit, total=page.total, total_pages=page.total_pages,
                      total_is_estimate=page.total_is_estimate)


_encoders: dict[int, msgspec.json.Encoder] = {}


def _encoder(enc_hook: Callable[[Any], Any]) -> msgspec.json.Encoder:
    key = id(enc_hook)
    encoder = _encoders.get(key)
    if encoder is None:
        def hook(value: Any) -> Any:
            # ids are most of what needs a hook: skip Litestar's walk over every type encoder for them
            return value.public() if isinstance(value, EntityId) else enc_hook(value)
        encoder = _encoders[key] = msgspec.json.Encoder(enc_hook=hook, decimal_format="number")
    return encoder


class JsonResponse(Response[Any]):
    """Litestar's response with exact decimals written as JSON numbers (`1234.50`, never via float)."""

    def render(self, content: Any, media_type: str,
               enc_hook: Callable[[Any], Any] = default_serializer) -> bytes:
        if isinstance(content, bytes) or "json" not in media_type:
            return super().render(content, media_type, enc_hook)
        return _encoder(enc_hook).encode(content)



class FieldProblem(msgspec.Struct):
    field: str
    message: str


class ErrorDetail(msgspec.Struct, rename="camel", kw_only=True):
    code: str
    message: str
    details: list[FieldProblem]
    request_id: str


class ErrorBody(msgspec.Struct, kw_only=True):
    """`{"success": false, "error": {...}}` as api.md requires."""

    error: ErrorDetail
    success: bool = False


_ERROR_TEXT = {
    400: "Malformed JSON (`malformed_json`)",
    401: "No token, or an invalid or expired one; or wrong credentials (`unauthorized`)",
    403: "Signed in, but the role does not grant this action (`forbidden`)",
    413: "The file is larger than the limit (`payload_too_large`)",
    415: "Not an xlsx or csv file, or its content does not match its extension (`unsupported_media_type`)",
    429: "Too many attempts; retry after `Retry-After` seconds (`rate_limited`)",
    404: "Not found, or not visible to the caller (`not_found`)",
    409: "A unique key is taken or the state forbids the change (`conflict`)",
    422: "Invalid fields, each named in `details` (`validation_failed`)",
    503: "A provider (payment gateway, messaging) is unavailable; retry later (`provider_unavailable`)",
}


def error_responses(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the error envelope under the given status codes."""
    return {code: ResponseSpec(data_container=ErrorBody, description=_ERROR_TEXT[code], generate_examples=False)
            for code in codes}
