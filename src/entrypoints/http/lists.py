"""Query-string helpers every list endpoint reuses: comma lists, enums, ids, dates and pages."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from application.shared.pagination import MAX_LIMIT, PageRequest, parse_sort
from domain.shared.errors import FieldError, ValidationFailed
from domain.shared.ids import parse_public_id

__all__ = ["enum_values", "id_values", "page_request", "text_values"]


def _split(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def text_values(raw: str | None) -> tuple[str, ...]:
    return tuple(v.lower() for v in _split(raw))


def enum_values(raw: str | None, enum: type[StrEnum], field: str) -> tuple[str, ...]:
    values = text_values(raw)
    allowed = {e.value for e in enum}
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValidationFailed.on(field, f"unknown value(s) {', '.join(bad)}; allowed: {', '.join(sorted(allowed))}")
    return values


def id_values(raw: str | None, prefix: str, field: str) -> tuple[int, ...]:
    ids: list[int] = []
    for part in _split(raw):
        number = parse_public_id(part, prefix)
        if number is None:
            raise ValidationFailed.on(field, f"'{part}' is not a valid {prefix} id")
        ids.append(number)
    return tuple(ids)


def page_request(page: int, limit: int, sort: str | None, allowed: Sequence[str], default: str) -> PageRequest:
    errors: list[FieldError] = []
    if page < 1:
        errors.append(FieldError("page", "must be 1 or more"))
    if not 1 <= limit <= MAX_LIMIT:
        errors.append(FieldError("limit", f"must be between 1 and {MAX_LIMIT}"))
    if errors:
        raise ValidationFailed(errors)
    return PageRequest(page=page, limit=limit, sort=parse_sort(sort, allowed, default))
