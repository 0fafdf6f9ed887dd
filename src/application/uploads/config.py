"""Limits and sizes the uploads use cases are configured with."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["UploadsConfig"]


@dataclass(frozen=True)
class UploadsConfig:
    max_bytes: int = 50 * 2**20  # 413 above this
    batch_rows: int = 5_000  # rows decided per transaction (and per checkpoint)
    stall_seconds: int = 60  # an import silent this long is resumed elsewhere (its worker died)
    progress_interval: float = 1.0  # seconds between progress events at most
    work_dir: str = "/tmp"  # local scratch space for files being read (set from DATA_DIR by the container)
    policy_types: tuple[str, ...] = ("motor", "health", "life", "term", "home", "travel", "personal_accident")
