"""A `ProviderLookup` over an HTTP endpoint that answers by our own reference (`GET <url>?channel=&reference=`:
200 `{"providerMessageId": ...}`, 404 when the provider never got it). Providers that offer such a lookup (or an
in-house gateway in front of them, or the local fake provider the crash test runs) are set with
CAMPAIGN_LOOKUP_URL; without it, reconciliation cannot ask and orphaned claims become `unknown`."""

from __future__ import annotations

import httpx

from application.ports.sms import SmsUnavailable

__all__ = ["ReferenceLookup"]


class ReferenceLookup:
    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self._client = client
        self._url = url

    async def find(self, channel: str, reference: str) -> str | None:
        try:
            response = await self._client.get(self._url, params={"channel": channel, "reference": reference},
                                              timeout=10)
        except httpx.TransportError as exc:
            raise SmsUnavailable(f"cannot reach the lookup: {exc}", code="lookup:network") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise SmsUnavailable(f"the lookup answered HTTP {response.status_code}", code="lookup:http")
        found = response.json().get("providerMessageId")
        return str(found) if found else None
