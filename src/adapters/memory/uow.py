"""The policies context's in-memory unit of work: staged writes applied on commit, dropped otherwise."""

from __future__ import annotations

import copy
from datetime import datetime

from adapters.memory.case_desk import InMemoryCaseEvents
from adapters.memory.policy_terms import InMemoryPolicyTermRepository
from adapters.memory.repositories import (
    InMemoryCustomerRepository,
    InMemoryNumberSequence,
    InMemoryPolicyRepository,
    InMemoryRenewalCaseRepository,
)
from adapters.memory.unit_of_work import InMemoryOutbox, InMemoryUnitOfWorkBase

__all__ = ["InMemoryOutbox", "InMemoryPoliciesUnitOfWork"]


class InMemoryPoliciesUnitOfWork(InMemoryUnitOfWorkBase):
    """`InMemoryPoliciesUnitOfWork(store, router)`; timestamps from the store's clock, one per unit."""

    customers: InMemoryCustomerRepository
    policies: InMemoryPolicyRepository
    cases: InMemoryRenewalCaseRepository
    sequences: InMemoryNumberSequence
    terms: InMemoryPolicyTermRepository
    case_events: InMemoryCaseEvents

    def _open(self) -> None:
        at = self._store.now()
        self.customers = InMemoryCustomerRepository(self._store, at)
        self.policies = InMemoryPolicyRepository(self._store, at)
        self.cases = InMemoryRenewalCaseRepository(self._store, self.policies, at)
        self.sequences = InMemoryNumberSequence(self._store)
        self.terms = InMemoryPolicyTermRepository(self._store, at)
        self.case_events = InMemoryCaseEvents(self._store)

    def _check(self) -> None:
        self.customers.check_unique()
        self.policies.check_unique()
        self.cases.check_unique()

    def _apply(self, now: datetime) -> None:
        tables = self._store.tables
        for repo_staged, table in ((self.customers.staged, tables.customers),
                                   (self.policies.staged, tables.policies), (self.cases.staged, tables.cases)):
            for key, entity in repo_staged.items():
                table[key] = copy.deepcopy(entity)  # type: ignore[assignment]
        tables.policy_terms.update(self.terms.staged)
        self.case_events.apply()

    def _clear_staged(self) -> None:
        for repo in (self.customers, self.policies, self.cases):
            repo.staged.clear()
        self.terms.staged.clear()
        self.case_events.staged.clear()
