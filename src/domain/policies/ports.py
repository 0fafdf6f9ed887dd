"""Repositories of the policies context (aggregates in, aggregates out)."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from domain.policies.model import Customer, Policy, RenewalCase
from domain.policies.terms import PolicyTerm

__all__ = ["CustomerRepository", "NumberSequence", "PolicyRepository", "PolicyTermRepository",
           "RenewalCaseRepository"]


class NumberSequence(Protocol):
    async def next_value(self, name: str) -> int:
        """Return the next value of a named, gap-tolerant, never-repeating sequence."""
        ...


class CustomerRepository(Protocol):
    async def get(self, customer_id: int) -> Customer | None: ...
    async def add(self, customer: Customer) -> None:
        """Insert; sets id and timestamps; raises Conflict on a duplicate customer code."""
        ...
    async def save(self, customer: Customer) -> None:
        """Persist changed fields; raises Conflict on a duplicate customer code."""
        ...


class PolicyRepository(Protocol):
    async def get(self, policy_id: int) -> Policy | None: ...
    async def add(self, policy: Policy) -> None:
        """Insert; sets id and timestamps; raises Conflict on a duplicate policy number."""
        ...
    async def save(self, policy: Policy) -> None: ...


class RenewalCaseRepository(Protocol):
    async def get(self, case_id: int) -> RenewalCase | None:
        """The case, locked for update until the unit of work ends."""
        ...
    async def save(self, case: RenewalCase) -> None: ...
    async def lapsing(self, *, today: date, limit: int) -> list[RenewalCase]:
        """Open, unpaid cases of the policy's current term whose grace period ended before `today` (locked)."""
        ...
    async def open_due_cases(self, *, today: date, window_days: int,
                             policy_id: int | None = None) -> list[RenewalCase]:
        """Open one case per due policy term that has none yet; return only the cases it opened.

        Safe under concurrency: a (policy, term) pair never gets two cases.
        """
        ...


class PolicyTermRepository(Protocol):
    async def add(self, term: PolicyTerm) -> bool:
        """Keep a past term once per (policy, end date); False when it was already kept."""
        ...
    async def of_policy(self, policy_id: int) -> list[PolicyTerm]: ...
