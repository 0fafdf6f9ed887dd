"""In-memory repositories of the policies context, with the SQL adapters' unique-key semantics."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from adapters.memory.store import MemoryStore
from domain.policies import rules
from domain.policies.case_workflow import WORKING_STATUSES
from domain.policies.model import Customer, PaymentStatus, Policy, RenewalCase
from domain.shared.errors import Conflict

__all__ = [
    "InMemoryCustomerRepository", "InMemoryNumberSequence", "InMemoryPolicyRepository",
    "InMemoryRenewalCaseRepository",
]

T = TypeVar("T", Customer, Policy, RenewalCase)


def _stored(entity: T) -> T:
    """A detached copy without pending events: rows hold state, never events."""
    stored = copy.deepcopy(entity)
    stored.pull_events()
    return stored


class _Repository(Generic[T]):
    unique: tuple[str, str] = ("", "")  # (attribute, camelCase field)

    def __init__(self, store: MemoryStore, table: Callable[[], dict[int, T]], sequence: str, at: datetime) -> None:
        self._store = store
        self._at = at  # one timestamp per unit of work, as PostgreSQL's now() is per transaction
        self._table: Callable[[], dict[int, T]] = table
        self._sequence = sequence
        self.staged: dict[int, T] = {}

    async def get(self, entity_id: int) -> T | None:
        found = self.staged.get(entity_id) or self._table().get(entity_id)
        return _stored(found) if found is not None else None

    def _check(self, entity: T) -> None:
        attr, field = self.unique
        value = getattr(entity, attr)
        for other in (*self._table().values(), *self.staged.values()):
            if other.id != entity.id and getattr(other, attr) == value:
                raise Conflict(f"{field} is already taken", field=field)

    def check_unique(self) -> None:
        for entity in self.staged.values():
            attr, field = self.unique
            for other in self._table().values():
                if other.id != entity.id and getattr(other, attr) == getattr(entity, attr):
                    raise Conflict(f"{field} is already taken", field=field)

    async def add(self, entity: T) -> None:
        self._check(entity)
        entity.id = self._store.next_value(self._sequence)
        entity.created_at = entity.updated_at = self._at
        self.staged[entity.id] = _stored(entity)

    async def save(self, entity: T) -> None:
        assert entity.id is not None
        self._check(entity)
        entity.updated_at = self._at
        self.staged[entity.id] = _stored(entity)


class InMemoryCustomerRepository(_Repository[Customer]):
    unique = ("customer_code", "customerCode")

    def __init__(self, store: MemoryStore, at: datetime) -> None:
        super().__init__(store, lambda: store.tables.customers, "customers.id", at)


class InMemoryPolicyRepository(_Repository[Policy]):
    unique = ("policy_number", "policyNumber")

    def __init__(self, store: MemoryStore, at: datetime) -> None:
        super().__init__(store, lambda: store.tables.policies, "policies.id", at)

    def visible(self) -> list[Policy]:
        merged: dict[int, Any] = {**self._store.tables.policies, **self.staged}
        return [merged[k] for k in sorted(merged)]


class InMemoryRenewalCaseRepository(_Repository[RenewalCase]):
    unique = ("case_number", "caseNumber")

    def __init__(self, store: MemoryStore, policies: InMemoryPolicyRepository, at: datetime) -> None:
        super().__init__(store, lambda: store.tables.cases, "renewal_cases.id", at)
        self._policies = policies

    def check_unique(self) -> None:
        super().check_unique()
        terms = {(c.policy_id, c.term_end_date) for c in self._table().values()}
        for case in self.staged.values():
            if case.id not in self._table() and (case.policy_id, case.term_end_date) in terms:
                raise Conflict("the policy term already has a renewal case")

    async def lapsing(self, *, today: date, limit: int) -> list[RenewalCase]:
        found: list[RenewalCase] = []
        for case in sorted(self._table().values(), key=lambda c: c.id or 0):
            policy = await self._policies.get(case.policy_id)
            if (policy is None or case.status not in WORKING_STATUSES or case.payment_status is PaymentStatus.PAID
                    or case.term_end_date != policy.end_date
                    or policy.renewal_date + timedelta(days=policy.grace_period_days) >= today):
                continue
            stored = await self.get(case.id or 0)
            if stored is not None:
                found.append(stored)
            if len(found) >= limit:
                break
        return found

    async def open_due_cases(self, *, today: date, window_days: int,
                             policy_id: int | None = None) -> list[RenewalCase]:
        taken = {(c.policy_id, c.term_end_date) for c in (*self._table().values(), *self.staged.values())}
        opened: list[RenewalCase] = []
        for policy in self._policies.visible():
            assert policy.id is not None
            if policy_id is not None and policy.id != policy_id:
                continue
            if (policy.id, policy.end_date) in taken or not rules.is_due_for_renewal(
                    status=policy.status, renewal_date=policy.renewal_date,
                    grace_period_days=policy.grace_period_days, today=today, window_days=window_days):
                continue
            number = rules.format_case_number(today.year, self._store.next_value("case_number"))
            case = RenewalCase(case_number=number, policy_id=policy.id, term_end_date=policy.end_date,
                               renewal_amount=policy.premium_amount,
                               priority=rules.case_priority(policy.premium_amount, policy.renewal_date, today))
            await self.add(case)
            opened.append(case)
        return opened


class InMemoryNumberSequence:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def next_value(self, name: str) -> int:
        return self._store.next_value(name)
