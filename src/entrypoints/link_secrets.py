"""Secrets that sign links sent to customers (unsubscribe, tracking): configured, or kept in DATA_DIR in development.

Links in sent messages must keep working across restarts, so a development secret is made once and kept on disk;
tests use a fixed one; production refuses to start without the configured value (settings)."""

from __future__ import annotations

import secrets
from pathlib import Path

from entrypoints.settings import Settings

__all__ = ["link_secret"]


def link_secret(settings: Settings, configured: str | None, file_name: str) -> bytes:
    if configured:
        return configured.encode()
    if settings.app_env == "test":
        return f"{file_name}-test-secret-0123456789abcdef".encode()
    key_file = Path(settings.data_dir) / file_name
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip().encode()
