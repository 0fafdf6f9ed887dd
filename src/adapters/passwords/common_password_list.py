"""The common-passwords port from the 30,000 most frequent leaked passwords that zxcvbn ships."""

from __future__ import annotations

from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

__all__ = ["ZxcvbnCommonPasswords"]


class ZxcvbnCommonPasswords:
    def __init__(self) -> None:
        words: list[str] = FREQUENCY_LISTS["passwords"]
        self._words = frozenset(word.lower() for word in words)

    def __contains__(self, password: object) -> bool:
        return isinstance(password, str) and password.lower() in self._words

    def __len__(self) -> int:
        return len(self._words)
