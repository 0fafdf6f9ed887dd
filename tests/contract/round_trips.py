"""Helpers of the round-trip contract tests."""

from __future__ import annotations

from dataclasses import fields

__all__ = ["unset_fields"]


def unset_fields(given: object, defaults: object, *, stamped: frozenset[str] = frozenset()) -> list[str]:
    """The fields `given` leaves at their default (besides `id` and `stamped`): a round trip of it would not show
    they are stored."""
    return [f.name for f in fields(given) if f.name not in {"id", *stamped}  # type: ignore[arg-type]
            and getattr(given, f.name) == getattr(defaults, f.name)]
