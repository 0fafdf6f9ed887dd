"""Settings of the payments use cases, from the deployment's settings."""

from __future__ import annotations

import msgspec

__all__ = ["PaymentsConfig"]


class PaymentsConfig(msgspec.Struct, frozen=True, kw_only=True):
    provider: str  # the gateway new links are made with: razorpay, stripe, dev (memory in tests)
    callback_url: str | None = None  # where the customer's browser returns after paying
    default_link_hours: int = 72
    max_link_hours: int = 24 * 30
    receipt_channel: str = "email"  # used when the link's own channel is unknown
