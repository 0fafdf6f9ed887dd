"""Helpers shared by every context's commands."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET

__all__ = ["set_fields"]


def set_fields(changes: msgspec.Struct) -> dict[str, Any]:
    """Return the fields a PATCH body actually carried."""
    return {f: getattr(changes, f) for f in changes.__struct_fields__ if getattr(changes, f) is not UNSET}
