"""Time-based one-time passwords (RFC 6238 over RFC 4226), with replay refusal and one step of lateness."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from urllib.parse import quote, urlencode

__all__ = [
    "ALGORITHMS",
    "MIN_SECRET_BYTES",
    "decode_secret",
    "match_step",
    "new_secret",
    "otpauth_uri",
    "step_at",
    "totp_code",
]

ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
MIN_SECRET_BYTES = 20  # 160 bits, the length RFC 4226 section 4 recommends
MAX_LATE_STEPS = 1  # a code is accepted at most one step after its own


def step_at(at_unix: int, *, step: int = 30) -> int:
    """The time step (RFC 6238 counter T, with T0 = 0) that contains `at_unix`."""
    if step <= 0:
        raise ValueError("step must be positive")
    return at_unix // step


def _hotp(secret: bytes, counter: int, *, digits: int, algorithm: str) -> str:
    """RFC 4226 HOTP value for one counter, with dynamic truncation."""
    if not 6 <= digits <= 10:
        raise ValueError("digits must be between 6 and 10")
    try:
        digest_maker = ALGORITHMS[algorithm.lower()]
    except KeyError:
        raise ValueError(f"unsupported TOTP algorithm {algorithm!r}") from None
    if counter < 0:
        raise ValueError("counter must not be negative")
    mac = hmac.new(secret, struct.pack(">Q", counter), digest_maker).digest()
    offset = mac[-1] & 0x0F
    binary = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(binary % 10**digits).zfill(digits)


def totp_code(secret: bytes, at_unix: int, *, digits: int = 6, step: int = 30, algorithm: str = "sha1") -> str:
    """The TOTP code for `secret` at Unix time `at_unix`."""
    return _hotp(secret, step_at(at_unix, step=step), digits=digits, algorithm=algorithm)


def match_step(
    secret: bytes,
    code: str,
    at_unix: int,
    *,
    last_used_step: int | None,
    digits: int = 6,
    step: int = 30,
    algorithm: str = "sha1",
) -> int | None:
    """The step `code` belongs to (current or one late, never future, never <= `last_used_step`), else None."""
    candidate = "".join(code.split())
    if len(candidate) != digits or not (candidate.isascii() and candidate.isdigit()):
        return None
    current = step_at(at_unix, step=step)
    matched: int | None = None
    # newest first, so a code valid for two steps consumes the later one; every step is computed
    for counter in range(current, current - MAX_LATE_STEPS - 1, -1):
        if counter < 0 or (last_used_step is not None and counter <= last_used_step):
            continue
        expected = _hotp(secret, counter, digits=digits, algorithm=algorithm)
        if hmac.compare_digest(expected.encode(), candidate.encode()) and matched is None:
            matched = counter
    return matched


def new_secret(random_bytes: bytes) -> str:
    """A base32 secret (no padding) from at least 20 random bytes supplied by the caller."""
    if len(random_bytes) < MIN_SECRET_BYTES:
        raise ValueError(f"a TOTP secret needs at least {MIN_SECRET_BYTES} random bytes")
    return base64.b32encode(random_bytes).decode("ascii").rstrip("=")


def decode_secret(secret_b32: str) -> bytes:
    """The raw bytes of a base32 secret, tolerant of lower case, spaces and missing padding."""
    cleaned = "".join(secret_b32.split()).upper().rstrip("=")
    try:
        return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except ValueError:
        raise ValueError("the TOTP secret is not valid base32") from None


def otpauth_uri(
    secret_b32: str, account: str, issuer: str, *, digits: int = 6, period: int = 30, algorithm: str = "sha1"
) -> str:
    """The Key URI (otpauth://totp/...) an authenticator app reads from a QR code."""
    if algorithm.lower() not in ALGORITHMS:
        raise ValueError(f"unsupported TOTP algorithm {algorithm!r}")
    if not issuer or not account:
        raise ValueError("issuer and account are required")
    if ":" in issuer or ":" in account:
        raise ValueError("issuer and account must not contain ':'")
    label = f"{quote(issuer, safe='')}:{quote(account, safe='@')}"
    query = urlencode(
        {
            "secret": secret_b32,
            "issuer": issuer,
            "algorithm": algorithm.upper(),
            "digits": str(digits),
            "period": str(period),
        },
        quote_via=quote,
        safe="",
    )
    return f"otpauth://totp/{label}?{query}"
