"""In-memory twin of the campaigns tracking store: hits staged until the unit commits, summarised as SQL does.

The summary's shape (both adapters):
`{"open": Figures, "click": Figures, "by_variant": {variant: {"open": Figures, "click": Figures}},
"by_link": {link: Figures}, "machine_reasons": {"open": {reason: n}, "click": {reason: n}}}` where
`Figures = {"raw", "human", "unique_raw", "unique_human"}` (hits, and distinct recipients); `human` counts the hits
with no machine_reason. `by_variant` lists only recipients with a variant, `by_link` only clicks with a link.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from adapters.memory.store import MemoryStore, TrackingRow
from application.campaigns.ports import TrackingHit
from domain.campaigns.model import Recipient
from domain.shared.errors import NotFound

__all__ = ["KINDS", "HitFacts", "InMemoryTrackingStore", "empty_figures", "summarise"]

KINDS = ("open", "click")


@dataclass(frozen=True)
class HitFacts:
    recipient_id: int
    variant: str | None
    kind: str
    link: str | None
    machine_reason: str | None


def empty_figures() -> dict[str, int]:
    return {"raw": 0, "human": 0, "unique_raw": 0, "unique_human": 0}


def _figures(hits: builtins.list[HitFacts]) -> dict[str, int]:
    human = [h for h in hits if h.machine_reason is None]
    return {"raw": len(hits), "human": len(human), "unique_raw": len({h.recipient_id for h in hits}),
            "unique_human": len({h.recipient_id for h in human})}


def summarise(hits: Iterable[HitFacts]) -> dict[str, Any]:
    """The summary of a campaign's hits (see the module docstring)."""
    found = builtins.list(hits)
    summary: dict[str, Any] = {kind: _figures([h for h in found if h.kind == kind]) for kind in KINDS}
    variants = sorted({h.variant for h in found if h.variant is not None})
    summary["by_variant"] = {v: {kind: _figures([h for h in found if h.kind == kind and h.variant == v])
                                 for kind in KINDS} for v in variants}
    links = sorted({h.link for h in found if h.kind == "click" and h.link is not None})
    summary["by_link"] = {link: _figures([h for h in found if h.kind == "click" and h.link == link])
                          for link in links}
    reasons: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
    for hit in found:
        if hit.machine_reason is not None:
            per_kind = reasons.setdefault(hit.kind, {})
            per_kind[hit.machine_reason] = per_kind.get(hit.machine_reason, 0) + 1
    summary["machine_reasons"] = reasons
    return summary


class InMemoryTrackingStore:
    """`InMemoryTrackingStore(store, recipient)`: `recipient(id)` sees the unit's own staged recipients too."""

    def __init__(self, store: MemoryStore, recipient: Callable[[int], Recipient | None]) -> None:
        self._store = store
        self._recipient = recipient
        self.staged: builtins.list[TrackingRow] = []

    async def record(self, hit: TrackingHit) -> None:
        recipient = self._recipient(hit.recipient_id)
        if recipient is None:
            raise NotFound("campaign recipient", hit.recipient_id)
        row_id = self._store.next_value("tracking_hits.id")
        self.staged.append(TrackingRow(id=row_id, campaign_id=recipient.campaign_id, hit=hit))

    async def summary(self, campaign_id: int) -> dict[str, Any]:
        facts = []
        for row in (*self._store.tables.tracking_hits, *self.staged):
            if row.campaign_id != campaign_id:
                continue
            recipient = self._recipient(row.hit.recipient_id)
            facts.append(HitFacts(recipient_id=row.hit.recipient_id,
                                  variant=None if recipient is None else recipient.variant, kind=row.hit.kind,
                                  link=row.hit.link, machine_reason=row.hit.machine_reason))
        return summarise(facts)
