"""The renewal desk's in-memory unit of work: staged writes applied on commit, dropped otherwise."""

from __future__ import annotations

import copy
from datetime import datetime

from adapters.memory.case_desk import InMemoryAgentPool, InMemoryCaseEvents, InMemoryDeskCases
from adapters.memory.repositories import InMemoryPolicyRepository, InMemoryRenewalCaseRepository
from adapters.memory.unit_of_work import InMemoryUnitOfWorkBase

__all__ = ["InMemoryDeskUnitOfWork"]


class InMemoryDeskUnitOfWork(InMemoryUnitOfWorkBase):
    """`InMemoryDeskUnitOfWork(store, router)`; timestamps from the store's clock, one per unit."""

    cases: InMemoryRenewalCaseRepository
    events: InMemoryCaseEvents
    agents: InMemoryAgentPool
    desk: InMemoryDeskCases

    def _open(self) -> None:
        at = self._store.now()
        self.cases = InMemoryRenewalCaseRepository(self._store, InMemoryPolicyRepository(self._store, at), at)
        self.events = InMemoryCaseEvents(self._store)
        self.agents = InMemoryAgentPool(self._store, self.cases)
        self.desk = InMemoryDeskCases(self._store, self.cases)

    def _check(self) -> None:
        self.cases.check_unique()

    def _apply(self, now: datetime) -> None:
        for key, case in self.cases.staged.items():
            self._store.tables.cases[key] = copy.deepcopy(case)
        self.events.apply()
        self.agents.apply()

    def _clear_staged(self) -> None:
        self.cases.staged.clear()
        self.events.staged.clear()
        self.agents.staged.clear()
