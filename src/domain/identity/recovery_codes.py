"""Single-use MFA recovery codes: generation from injected randomness, hashing and constant-time matching.

Each code is 24 symbols of Crockford's base32 (5 bits each, 120 bits in all), shown as six groups of four.
With at least 112 bits of entropy a code cannot be guessed offline, so ASVS 5.0 (6.5.2) allows storing it
under a plain SHA-256: a slow salted password hash like argon2 only helps secrets that are guessable.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable

__all__ = [
    "ALPHABET",
    "CODE_BITS",
    "DEFAULT_COUNT",
    "hash_recovery_code",
    "match_recovery_code",
    "new_recovery_codes",
    "normalise_recovery_code",
]

# Crockford's base32: no I, L, O or U; what a user types as o, i or l is read as 0, 1 and 1
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_LOOKALIKES = str.maketrans({"o": "0", "i": "1", "l": "1"})
GROUP_LENGTH = 4
GROUPS = 6
CODE_LENGTH = GROUP_LENGTH * GROUPS
CODE_BITS = CODE_LENGTH * 5
DEFAULT_COUNT = 10
_MAX_ATTEMPTS_PER_CODE = 8


def _new_code(random_bytes: Callable[[int], bytes]) -> str:
    """One code; each random byte yields one symbol through its low 5 bits (256 is a multiple of 32)."""
    raw = random_bytes(CODE_LENGTH)
    if len(raw) != CODE_LENGTH:
        raise ValueError(f"random_bytes({CODE_LENGTH}) returned {len(raw)} bytes")
    symbols = "".join(ALPHABET[b & 0x1F] for b in raw)
    return "-".join(symbols[i : i + GROUP_LENGTH] for i in range(0, CODE_LENGTH, GROUP_LENGTH))


def new_recovery_codes(random_bytes: Callable[[int], bytes], count: int = DEFAULT_COUNT) -> list[str]:
    """`count` distinct codes like `7k2m-q9xd-...`; `random_bytes(n)` must return n secure random bytes."""
    if count < 1:
        raise ValueError("count must be at least 1")
    codes: list[str] = []
    for _ in range(count * _MAX_ATTEMPTS_PER_CODE):
        code = _new_code(random_bytes)
        if code not in codes:
            codes.append(code)
            if len(codes) == count:
                return codes
    raise ValueError("random_bytes keeps repeating itself; it is not a source of randomness")


def normalise_recovery_code(code: str) -> str:
    """The canonical form of a typed code: lower case, no dashes or spaces, look-alike letters mapped."""
    kept = "".join(ch for ch in code.lower() if ch not in "- \t\r\n")
    return kept.translate(_LOOKALIKES)


def _is_well_formed(normalised: str) -> bool:
    return len(normalised) == CODE_LENGTH and all(ch in ALPHABET for ch in normalised)


def hash_recovery_code(code: str) -> str:
    """SHA-256 hex of the normalised code: what is stored instead of the code itself."""
    return hashlib.sha256(normalise_recovery_code(code).encode("ascii", "replace")).hexdigest()


def match_recovery_code(code: str, hashes: Iterable[str]) -> str | None:
    """The stored hash `code` matches (the caller removes it: single use), compared in constant time."""
    if not _is_well_formed(normalise_recovery_code(code)):
        return None
    candidate = hash_recovery_code(code).encode("ascii")
    matched: str | None = None
    for stored in hashes:
        if hmac.compare_digest(stored.encode("ascii", "replace"), candidate) and matched is None:
            matched = stored
    return matched
