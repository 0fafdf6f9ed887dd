"""In-memory twin of `SqlAttributions`: the store's committed recipients, changed in place at once (as the SQL
adapter's own transaction commits at once)."""

from __future__ import annotations

from datetime import datetime

from adapters.memory.store import MemoryStore
from application.campaigns.ports import Attributed
from domain.campaigns.model import Recipient

__all__ = ["InMemoryAttributions"]


class InMemoryAttributions:
    """Implements `application.campaigns.ports.Attributions` over `store.tables.campaign_recipients`."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def _channel_of(self, recipient: Recipient) -> str | None:
        campaign = self._store.tables.campaigns.get(recipient.campaign_id)
        return None if campaign is None else campaign.channel

    async def mark_replied(self, channel: str, address: str, *, sent_since: datetime,
                           at: datetime) -> Attributed | None:
        wanted = address.strip().lower() if channel == "email" else address
        found = [r for r in self._store.tables.campaign_recipients.values()
                 if r.sent_at is not None and sent_since <= r.sent_at <= at and self._channel_of(r) == channel
                 and (r.address.lower() if channel == "email" else r.address) == wanted]
        if not found:
            return None
        latest = max(found, key=lambda r: (r.sent_at, r.id or 0))
        if latest.replied_at is not None or latest.id is None or latest.sent_at is None:
            return None
        latest.replied_at = at
        return Attributed(recipient_id=latest.id, campaign_id=latest.campaign_id, sent_at=latest.sent_at)

    async def mark_converted(self, customer_id: int, policy_id: int | None, *, sent_since: datetime,
                             at: datetime) -> list[Attributed]:
        marked: list[Attributed] = []
        for r in self._store.tables.campaign_recipients.values():
            about = r.customer_id == customer_id and (policy_id is None or r.policy_id in (policy_id, None))
            if (about and r.id is not None and r.sent_at is not None and sent_since <= r.sent_at <= at
                    and r.converted_at is None):
                r.converted_at = at
                marked.append(Attributed(recipient_id=r.id, campaign_id=r.campaign_id, sent_at=r.sent_at))
        return sorted(marked, key=lambda a: (a.sent_at, a.recipient_id), reverse=True)
