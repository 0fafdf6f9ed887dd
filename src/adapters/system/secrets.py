"""The operating system's CSPRNG behind the SecretSource port."""

from __future__ import annotations

import secrets

__all__ = ["SystemSecretSource"]


class SystemSecretSource:
    def token_bytes(self, size: int) -> bytes:
        return secrets.token_bytes(size)

    def token_urlsafe(self, size: int) -> str:
        return secrets.token_urlsafe(size)
