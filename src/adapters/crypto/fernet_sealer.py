"""SecretSealer with Fernet (AES-128-CBC + HMAC-SHA256) and a key ring: the first key seals, every key opens."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["FernetSecretSealer", "parse_fernet_keys"]

_PREFIX = "f1:"  # the stored form's version: a value without it was stored before sealing existed


def parse_fernet_keys(raw: str) -> list[str]:
    """Comma-separated url-safe base64 32-byte keys (`Fernet.generate_key()`); ValueError names the bad entry."""
    keys = [part.strip() for part in raw.split(",") if part.strip()]
    if not keys:
        raise ValueError("no key given")
    for index, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ValueError(f"key {index} is not a Fernet key (32 bytes, url-safe base64)") from None
    return keys


class FernetSecretSealer:
    def __init__(self, keys: Sequence[str]) -> None:
        self._ring = MultiFernet([Fernet(key) for key in parse_fernet_keys(",".join(keys))])

    def seal(self, plain: str) -> str:
        return _PREFIX + self._ring.encrypt(plain.encode()).decode("ascii")

    def unseal(self, sealed: str) -> str:
        if not sealed.startswith(_PREFIX):
            return sealed  # stored in clear before sealing existed (development data): readable, resealed on setup
        try:
            return self._ring.decrypt(sealed[len(_PREFIX):].encode("ascii")).decode()
        except InvalidToken:
            raise ValueError("the secret was sealed under a key that is no longer configured") from None
