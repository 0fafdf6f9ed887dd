"""Provider lookups for campaign reconciliation: asking a provider whether it received a message we sent with a
given reference. None of the production providers can be asked by our own reference (Twilio, SES, SNS and Meta
index by their ids), so production reconciliation marks such claims `unknown` for a person to decide."""

from __future__ import annotations

__all__ = ["UnanswerableLookup"]


class UnanswerableLookup:
    """Implements `application.campaigns.ports.ProviderLookup` for providers that cannot be asked."""

    async def find(self, channel: str, reference: str) -> str | None:
        raise NotImplementedError(f"the {channel} provider cannot be asked about {reference!r}")
