"""Lifetimes and names the identity use cases are configured with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

__all__ = ["IdentityConfig"]


@dataclass(frozen=True)
class IdentityConfig:
    access_ttl_seconds: int = 900  # access JWTs: 15 minutes
    challenge_ttl_seconds: int = 300  # the MFA step of a login must finish within 5 minutes
    session_ttl: timedelta = timedelta(hours=12)  # absolute: a working day, whatever the refreshes
    refresh_ttl: timedelta = timedelta(hours=1)  # idle: a refresh token unused for an hour expires
    reset_token_ttl: timedelta = timedelta(minutes=30)
    invitation_ttl: timedelta = timedelta(days=3)
    totp_issuer: str = "Renewal Desk"
    reset_url: str = "http://localhost:5173/reset-password?token={token}"  # where the frontend takes the token
