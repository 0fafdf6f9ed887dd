"""The password hasher port with argon2id (argon2-cffi), never below OWASP's minimum parameters."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["OWASP_MIN_MEMORY_COST", "OWASP_MIN_PARALLELISM", "OWASP_MIN_TIME_COST", "Argon2PasswordHasher"]

# OWASP Password Storage Cheat Sheet: argon2id with m=19 MiB, t=2, p=1 at least
OWASP_MIN_MEMORY_COST = 19456  # KiB
OWASP_MIN_TIME_COST = 2
OWASP_MIN_PARALLELISM = 1


class Argon2PasswordHasher:
    def __init__(self, time_cost: int = 2, memory_cost: int = 19456, parallelism: int = 1) -> None:
        if memory_cost < OWASP_MIN_MEMORY_COST:
            raise ValueError(f"argon2 memory_cost {memory_cost} KiB is below the minimum {OWASP_MIN_MEMORY_COST}")
        if time_cost < OWASP_MIN_TIME_COST:
            raise ValueError(f"argon2 time_cost {time_cost} is below the minimum {OWASP_MIN_TIME_COST}")
        if parallelism < OWASP_MIN_PARALLELISM:
            raise ValueError(f"argon2 parallelism {parallelism} is below the minimum {OWASP_MIN_PARALLELISM}")
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, encoded: str, password: str) -> bool:
        try:
            return self._hasher.verify(encoded, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, encoded: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(encoded)
        except InvalidHashError:
            return True
