"""Commands and answers of the consent use cases; they double as the HTTP bodies (camelCase)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.messaging.model import Consent

__all__ = ["DEFAULT_SOURCE", "ConsentView", "SetConsent", "public_customer_id"]

DEFAULT_SOURCE = "default"  # no decision on record: the consent rule's default applies


def public_customer_id(customer_id: int | None) -> str | None:
    return f"customer-{customer_id}" if customer_id is not None else None


class SetConsent(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Record a recipient's decision for one channel: name the `address` (e-mail or phone number), or the
    `customerId` whose e-mail (email) or phone (sms, whatsapp) is meant."""

    channel: str  # email | sms | whatsapp
    opted_in: bool
    address: str | None = None
    customer_id: str | None = None  # `customer-3`, or the bare number
    reason: str | None = None


class ConsentView(msgspec.Struct, kw_only=True, rename="camel"):
    channel: str
    address: str
    customer_id: str | None
    opted_in: bool
    source: str  # stop_keyword | unsubscribe_link | bounce | complaint | manual | import | default
    reason: str | None
    updated_at: datetime | None

    @classmethod
    def of(cls, consent: Consent) -> ConsentView:
        return cls(channel=consent.channel.value, address=consent.address,
                   customer_id=public_customer_id(consent.customer_id), opted_in=consent.opted_in,
                   source=consent.source.value, reason=consent.reason, updated_at=consent.updated_at)
