"""Deployment settings the policies use cases need, handed in by the container."""

from __future__ import annotations

import msgspec

__all__ = ["DEFAULT_POLICY_TYPES", "PoliciesConfig"]

DEFAULT_POLICY_TYPES = ("motor", "health", "life", "term", "home", "travel", "personal_accident")


class PoliciesConfig(msgspec.Struct, frozen=True, kw_only=True):
    renewal_window_days: int = 45
    currency: str = "INR"
    policy_types: tuple[str, ...] = DEFAULT_POLICY_TYPES
