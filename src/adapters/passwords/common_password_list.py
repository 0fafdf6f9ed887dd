"""The common-passwords port from the list shipped in data/common-passwords.txt.gz (see data/README.md).

The file holds about 140,000 lower-cased leaked passwords: the 100,000 most frequent of a 10-million-password
breach corpus, every 12+ character password among its top million, and zxcvbn's 30,000. It is read once, on
the first look-up, and shared by every instance.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib.resources import files

__all__ = ["ShippedCommonPasswords"]

_DATA_FILE = "common-passwords.txt.gz"


@cache
def _shipped_words() -> frozenset[str]:
    resource = files(__package__ or "adapters.passwords").joinpath("data", _DATA_FILE)
    text = gzip.decompress(resource.read_bytes()).decode("utf-8")
    return frozenset(word for word in text.split("\n") if word)


class ShippedCommonPasswords:
    """Case-insensitive membership in the shipped list; anything that is not a str is never contained."""

    def __contains__(self, password: object) -> bool:
        return isinstance(password, str) and password.lower() in _shipped_words()

    def __len__(self) -> int:
        return len(_shipped_words())
