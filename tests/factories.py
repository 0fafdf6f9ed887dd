"""Commands with sensible defaults for tests, and staff and case owners on either container."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, update

from adapters.memory.store import MemoryStore
from adapters.sqlalchemy.tables.identity import branches, users
from adapters.sqlalchemy.tables.policies import renewal_cases
from application.policies.commands import NewCustomer, NewPolicy
from application.policies.ports import CaseFilters
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING
from entrypoints.container import AppContainer
from tests.conftest import NOW

TODAY = NOW.date()


def new_customer(**overrides: Any) -> NewCustomer:
    values: dict[str, Any] = {"first_name": "Asha", "last_name": "Rao", "email": "asha.rao@example.in",
                              "phone": "+91 98765 43210"}
    values.update(overrides)
    return NewCustomer(**values)


def new_policy(customer_id: int, *, renewal_in_days: int = 200, **overrides: Any) -> NewPolicy:
    end = TODAY + timedelta(days=renewal_in_days)
    values: dict[str, Any] = {"customer_id": customer_id, "policy_type": "motor",
                              "premium_amount": Decimal("12500.00"), "start_date": end - timedelta(days=365),
                              "end_date": end}
    values.update(overrides)
    return NewPolicy(**values)


def as_date(days_from_today: int) -> date:
    return TODAY + timedelta(days=days_from_today)


async def add_staff(container: AppContainer, *, branch_count: int,
                    user_branches: list[int | None]) -> tuple[list[int], list[int]]:
    """`branch_count` branches and one user per entry of `user_branches` (an index into the branches, or None).

    PostgreSQL gets real rows for the foreign keys; the in-memory adapters need only ids. Returns the branch
    ids and the user ids, in order.
    """
    engine = container.adapters.engine()
    if engine is None:
        branch_ids = list(range(1, branch_count + 1))
        return branch_ids, list(range(1, len(user_branches) + 1))
    async with engine.begin() as conn:
        branch_ids = [int(await conn.scalar(insert(branches).values(code=f"BR{n}", name=f"Branch {n}")
                                            .returning(branches.c.id)))
                      for n in range(1, branch_count + 1)]
        user_ids = [int(await conn.scalar(insert(users).values(
            email=f"agent{n}@example.com", password_hash="!", first_name=f"Agent{n}", last_name="Test",
            branch_id=None if b is None else branch_ids[b]).returning(users.c.id)))
            for n, b in enumerate(user_branches, start=1)]
    return branch_ids, user_ids


async def set_case_owners(container: AppContainer, case_id: int, *, assigned_to: int | None = None,
                          escalated_to: int | None = None) -> None:
    """Assign and escalate a case directly in the store (no use case does it yet)."""
    engine = container.adapters.engine()
    if engine is None:
        store: MemoryStore = container.adapters.store()  # type: ignore[union-attr]
        case = store.tables.cases[case_id]
        case.assigned_to, case.escalated_to = assigned_to, escalated_to
        return
    async with engine.begin() as conn:
        await conn.execute(update(renewal_cases).where(renewal_cases.c.id == case_id).values(
            assigned_to=assigned_to, escalated_to=escalated_to))


@dataclass(frozen=True)
class OwnedCases:
    """Five open cases in two branches. Agent A is in branch 1, agent B in branch 2, agent C in none.

    case policy branch  assigned  escalated
    a1   1             A
    b1   1             B                     (B's case in A's branch)
    b2   2             B
    e2   2                       A           (escalated to A in B's branch)
    b0   none          B
    """

    branch1: int
    branch2: int
    agent_a: int
    agent_b: int
    agent_c: int
    a1: int
    b1: int
    b2: int
    e2: int
    b0: int


async def seed_owned_cases(container: AppContainer) -> OwnedCases:
    (branch1, branch2), (a, b, c) = await add_staff(container, branch_count=2, user_branches=[0, 1, None])
    customer = await container.application.customers().register(new_customer())
    issue = container.application.policies().issue
    policy_ids = [(await issue(new_policy(customer.id, renewal_in_days=days, branch_id=branch))).id
                  for days, branch in ((5, branch1), (6, branch1), (7, branch2), (8, branch2), (9, None))]
    cases = container.application.cases()
    await cases.open_due_cases()
    by_policy = {v.policy_id: int(v.id) for v in (await cases.list(CaseFilters(), PageRequest(limit=100),
                                                                     EVERYTHING)).items}
    a1, b1, b2, e2, b0 = (by_policy[pid] for pid in policy_ids)
    for case_id, assigned, escalated in ((a1, a, None), (b1, b, None), (b2, b, None), (e2, None, a), (b0, b, None)):
        await set_case_owners(container, case_id, assigned_to=assigned, escalated_to=escalated)
    return OwnedCases(branch1=branch1, branch2=branch2, agent_a=a, agent_b=b, agent_c=c, a1=a1, b1=b1, b2=b2,
                      e2=e2, b0=b0)
