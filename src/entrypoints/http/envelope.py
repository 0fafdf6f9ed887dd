"""The success envelope, list pagination and the JSON response that writes money as numbers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import msgspec
from litestar import Response
from litestar.serialization import default_serializer

from application.shared.pagination import Page
from domain.shared.ids import EntityId

__all__ = ["Envelope", "JsonResponse", "Pagination", "ok", "pagination_of"]

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

