"""In-memory twin of `SqlOptOuts`: the store's committed consent decisions."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.memory.store import MemoryStore
from adapters.sqlalchemy.read_models.opt_outs import consent_keys

__all__ = ["InMemoryOptOuts"]


class InMemoryOptOuts:
    """Implements `application.campaigns.ports.OptOuts`; counts its queries (one per batch)."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.queries = 0

    async def opted_out(self, channel: str, addresses: Sequence[str]) -> set[str]:
        self.queries += 1
        consents = self._store.tables.consents
        found: set[str] = set()
        for key, given in consent_keys(channel, addresses).items():
            consent = consents.get((channel, key))
            if consent is not None and not consent.opted_in:
                found.update(given)
        return found
