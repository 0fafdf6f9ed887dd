"""The access-token port with PyJWT: HS256 signed by a ring of keys named by `kid`, so keys rotate without logouts.

Rotation: put the new key first in the ring (it becomes the current key and signs every new token) and keep the
old one in the ring for at least one token lifetime plus the leeway; tokens it signed keep verifying until they
expire. Removing a key from the ring invalidates every token it signed on the next request.

Only HS256 is accepted, whatever the token's header says (`none`, RS256 with a public key as "secret", HS512 ...).
Time checks use the injected clock, not PyJWT's reading of the system clock, so tests are deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

import jwt
from jwt.exceptions import (
    DecodeError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidSignatureError,
    InvalidTokenError,
    PyJWTError,
)

from application.identity.ports import TOKEN_PURPOSES, AccessClaims, InvalidToken, TokenPurpose
from domain.shared.clock import Clock

__all__ = ["ALGORITHM", "MIN_SECRET_BYTES", "PyJwtAccessTokens", "parse_key_ring"]

ALGORITHM: Final = "HS256"
MIN_SECRET_BYTES: Final = 32  # RFC 7518 section 3.2: an HS256 key at least as long as the hash output
MAX_TOKEN_CHARS: Final = 4096  # ours are ~400 characters; refuse anything huge before parsing it
REQUIRED_CLAIMS: Final = ("iss", "aud", "sub", "sid", "sv", "pur", "jti", "iat", "exp")
_KID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_USER_ID = re.compile(r"0|[1-9][0-9]{0,18}")


def parse_key_ring(raw: str) -> tuple[dict[str, str], str]:
    """Parse a setting like "2026-11:secretA,2026-10:secretB" into (ring, current kid); the first entry is current.

    Each entry is `kid:secret`; the kid is 1-64 of `A-Z a-z 0-9 . _ -`, the secret is everything after the first
    colon (at least 32 bytes in UTF-8, no commas: use hex or base64url). Raises ValueError naming the entry and kid,
    never the secret.
    """
    entries = [entry.strip() for entry in raw.split(",")]
    if not raw.strip():
        raise ValueError("the signing key ring is empty; expected kid:secret[,kid:secret...]")
    ring: dict[str, str] = {}
    for index, entry in enumerate(entries, start=1):
        kid, colon, secret = entry.partition(":")
        kid, secret = kid.strip(), secret.strip()
        if not colon:
            raise ValueError(f"signing key entry {index} is not of the form kid:secret")
        if not _KID.fullmatch(kid):
            raise ValueError(f"signing key entry {index}: the key id must be 1-64 of A-Z a-z 0-9 . _ -")
        if kid in ring:
            raise ValueError(f"signing key entry {index}: the key id {kid!r} appears twice")
        _check_secret(kid, secret)
        ring[kid] = secret
    return ring, next(iter(ring))


def _check_secret(kid: str, secret: str) -> None:
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        raise ValueError(f"signing key {kid!r} is shorter than {MIN_SECRET_BYTES} bytes")


class PyJwtAccessTokens:
    """AccessTokenIssuer: tokens carry `kid` in the header and iss, aud, sub (user id), sid, sv, pur, jti, iat, exp."""

    def __init__(
        self,
        keys: Mapping[str, str],
        *,
        current_kid: str,
        issuer: str,
        audience: str,
        clock: Clock,
        token_ids: Callable[[], str],
        default_ttl: int = 900,
        leeway: int = 30,
    ) -> None:
        if not keys:
            raise ValueError("the signing key ring is empty")
        for kid, secret in keys.items():
            if not _KID.fullmatch(kid):
                raise ValueError(f"signing key id {kid!r} must be 1-64 of A-Z a-z 0-9 . _ -")
            _check_secret(kid, secret)
        if current_kid not in keys:
            raise ValueError(f"the current signing key {current_kid!r} is not in the key ring")
        if not issuer or not audience:
            raise ValueError("issuer and audience must not be empty")
        if default_ttl <= 0:
            raise ValueError("default_ttl must be positive")
        if leeway < 0:
            raise ValueError("leeway must not be negative")
        self._keys = dict(keys)  # a copy: the ring is fixed for this instance's life
        self._current_kid = current_kid
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        self._token_ids = token_ids
        self._default_ttl = default_ttl
        self._leeway = leeway

    @property
    def current_kid(self) -> str:
        return self._current_kid

    def issue(
        self,
        *,
        user_id: int,
        session_id: str,
        session_version: int,
        purpose: TokenPurpose = "access",
        ttl_seconds: int | None = None,
    ) -> tuple[str, AccessClaims]:
        ttl = self._default_ttl if ttl_seconds is None else ttl_seconds
        if ttl <= 0:
            raise ValueError("ttl_seconds must be positive")
        if purpose not in TOKEN_PURPOSES:
            raise ValueError(f"unknown token purpose {purpose!r}")
        if isinstance(user_id, bool) or user_id < 0:
            raise ValueError("user_id must be a non-negative integer")
        if isinstance(session_version, bool) or session_version < 0:
            raise ValueError("session_version must be a non-negative integer")
        if not session_id:
            raise ValueError("session_id must not be empty")
        token_id = self._token_ids()
        if not token_id:
            raise ValueError("the token id generator returned an empty id")
        now = int(self._now())
        claims = AccessClaims(
            user_id=user_id, session_id=session_id, session_version=session_version, purpose=purpose,
            issued_at=now, expires_at=now + ttl, token_id=token_id,
        )
        payload: dict[str, Any] = {
            "iss": self._issuer, "aud": self._audience, "sub": str(user_id), "sid": session_id,
            "sv": session_version, "pur": purpose, "jti": token_id, "iat": now, "exp": now + ttl,
        }
        token = jwt.encode(
            payload, self._keys[self._current_kid], algorithm=ALGORITHM, headers={"kid": self._current_kid},
        )
        return token, claims

    def verify(self, token: str, *, purpose: TokenPurpose = "access") -> AccessClaims:
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken("malformed")
        try:
            header = jwt.get_unverified_header(token)
        except PyJWTError:
            raise InvalidToken("malformed") from None
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("bad_signature")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("malformed")
        secret = self._keys.get(kid)
        if secret is None:
            raise InvalidToken("unknown_key")
        payload = self._decode(token, secret)
        claims = self._claims(payload)
        self._check_times(payload, claims)
        if claims.purpose != purpose:
            raise InvalidToken("wrong_purpose")
        return claims

    # --- verification steps ------------------------------------------------------------------------------

    def _decode(self, token: str, secret: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "verify_signature": True,
                    "verify_aud": True,
                    "verify_iss": True,
                    "strict_aud": True,
                    # the times are checked below against the injected clock
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": list(REQUIRED_CLAIMS),
                    "enforce_minimum_key_length": True,
                },
            )
        except InvalidSignatureError:
            raise InvalidToken("bad_signature") from None
        except InvalidAudienceError:
            raise InvalidToken("wrong_audience") from None
        except InvalidIssuerError:
            raise InvalidToken("wrong_issuer") from None
        except (DecodeError, InvalidTokenError):
            raise InvalidToken("malformed") from None

    @staticmethod
    def _claims(payload: dict[str, Any]) -> AccessClaims:
        sub, sid, sv, pur, jti = payload["sub"], payload["sid"], payload["sv"], payload["pur"], payload["jti"]
        iat, exp = payload["iat"], payload["exp"]
        if not (isinstance(sub, str) and _USER_ID.fullmatch(sub)):
            raise InvalidToken("malformed")
        if not (isinstance(sid, str) and sid) or not (isinstance(jti, str) and jti):
            raise InvalidToken("malformed")
        if not all(_is_int(value) for value in (sv, iat, exp)) or sv < 0 or exp <= iat:
            raise InvalidToken("malformed")
        if pur not in TOKEN_PURPOSES:
            raise InvalidToken("malformed")
        return AccessClaims(
            user_id=int(sub), session_id=sid, session_version=sv, purpose=pur, issued_at=iat, expires_at=exp,
            token_id=jti,
        )

    def _check_times(self, payload: dict[str, Any], claims: AccessClaims) -> None:
        now = self._now()
        if now >= claims.expires_at + self._leeway:
            raise InvalidToken("expired")
        if claims.issued_at > now + self._leeway:
            raise InvalidToken("not_yet_valid")
        if "nbf" in payload:
            nbf = payload["nbf"]
            if not _is_int(nbf):
                raise InvalidToken("malformed")
            if nbf > now + self._leeway:
                raise InvalidToken("not_yet_valid")

    def _now(self) -> float:
        current: datetime = self._clock.now()
        if current.tzinfo is None:
            raise ValueError("the clock must return timezone-aware times")
        return current.timestamp()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
