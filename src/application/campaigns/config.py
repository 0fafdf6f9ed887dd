"""Settings the campaign use cases are configured with: limits on requests and where tracking links point."""

from __future__ import annotations

import msgspec

__all__ = ["CampaignsConfig"]


class CampaignsConfig(msgspec.Struct, frozen=True, kw_only=True):
    public_base_url: str = "http://localhost:8000"  # where /t/o, /t/c and /s are reached from outside
    preview_sample_size: int = 10  # rows a segment preview shows
    max_preview_sample_size: int = 50
    max_schedule_days: int = 365  # how far ahead a campaign may be scheduled
    analytics_top_links: int = 10  # links listed in topPerformingContent

    def open_url(self, token: str) -> str:
        """The 1x1 pixel an e-mail embeds."""
        return f"{self._base}/t/o/{token}"

    def click_url(self, token: str) -> str:
        """The redirect an e-mail's link is rewritten to."""
        return f"{self._base}/t/c/{token}"

    def short_url(self, token: str) -> str:
        """The short link an SMS or WhatsApp message carries instead of the long one."""
        return f"{self._base}/s/{token}"

    @property
    def _base(self) -> str:
        return self.public_base_url.rstrip("/")
