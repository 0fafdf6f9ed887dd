"""A JSON-lines file the development sinks append to, each line numbered under a file lock."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["append_numbered"]


def append_numbered(path: Path, prefix: str, entry: dict[str, Any]) -> str:
    """Append `entry` with the id `<prefix><n>`, n being its line number in the file, and return that id.

    The count and the append happen under an exclusive lock, so ids stay unique across restarts and across
    processes sharing the file (blocking: run it in a thread)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with open(path, "rb") as existing:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: existing.read(1 << 16), b""))
        identifier = f"{prefix}{lines + 1}"
        os.write(fd, (json.dumps({"id": identifier, **entry}, ensure_ascii=False) + "\n").encode())
        return identifier
    finally:
        os.close(fd)  # closing releases the lock
