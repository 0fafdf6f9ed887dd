"""In-memory past policy terms: staged in the unit of work, unique per (policy, end date)."""

from __future__ import annotations

import copy
from datetime import datetime

from adapters.memory.store import MemoryStore
from domain.policies.terms import PolicyTerm

__all__ = ["InMemoryPolicyTermRepository"]


class InMemoryPolicyTermRepository:
    def __init__(self, store: MemoryStore, at: datetime) -> None:
        self._store = store
        self._at = at
        self.staged: dict[int, PolicyTerm] = {}

    def _all(self) -> list[PolicyTerm]:
        return [*self._store.tables.policy_terms.values(), *self.staged.values()]

    async def add(self, term: PolicyTerm) -> bool:
        if any(t.policy_id == term.policy_id and t.end_date == term.end_date for t in self._all()):
            return False
        key = ("policy_terms", term.policy_id, term.end_date)
        if key in self._store.reserved_keys:  # another open unit keeps the same term: it wins, as in SQL
            return False
        term.id, term.created_at = self._store.next_value("policy_terms.id"), self._at
        self.staged[term.id] = copy.deepcopy(term)
        return True

    async def of_policy(self, policy_id: int) -> list[PolicyTerm]:
        return sorted((copy.deepcopy(t) for t in self._all() if t.policy_id == policy_id), key=lambda t: t.end_date)
