"""Page requests, sort whitelists and pages, shared by every list use case."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

import msgspec

from domain.shared.errors import ValidationFailed

__all__ = ["MAX_LIMIT", "Page", "PageRequest", "SortKey", "parse_sort"]

T = TypeVar("T")
MAX_LIMIT = 100


class SortKey(msgspec.Struct, frozen=True):
    field: str
    descending: bool = False


class PageRequest(msgspec.Struct, frozen=True, kw_only=True):
    page: int = 1
    limit: int = 20
    sort: tuple[SortKey, ...] = ()

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


class Page(msgspec.Struct, Generic[T], kw_only=True):
    items: list[T]
    page: int
    limit: int
    total: int
    total_is_estimate: bool = False

    @property
    def total_pages(self) -> int:
        return (self.total + self.limit - 1) // self.limit if self.total else 0


def parse_sort(raw: str | None, allowed: Sequence[str], default: str) -> tuple[SortKey, ...]:
    """Parse `field,-other` against a whitelist of camelCase field names."""
    text = raw if raw else default
    keys: list[SortKey] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name = part.lstrip("-+")
        if name not in allowed:
            raise ValidationFailed.on("sort", f"cannot sort by '{name}'; allowed: {', '.join(allowed)}")
        keys.append(SortKey(name, part.startswith("-")))
    return tuple(keys)

