"""Staff and open cases for the renewal desk's tests, on either container."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from application.policies.desk_commands import Actor
from application.policies.ports import CaseFilters
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING, Visibility
from entrypoints.container import AppContainer
from tests.factories import new_customer, new_policy
from tests.identity_support import add_branch, make_user

ADMIN = Actor(user_id=None, visibility=EVERYTHING)


async def open_cases(container: AppContainer, branch_ids: list[int | None], *, renewal_in_days: int = 30,
                     premium: Decimal = Decimal("12500.00")) -> list[int]:
    """One policy per entry (in that branch), each inside its renewal window; the ids of their cases in order."""
    customer = await container.application.customers().register(new_customer())
    issue = container.application.policies().issue
    policy_ids = [int((await issue(new_policy(customer.id, renewal_in_days=renewal_in_days, branch_id=branch,
                                              premium_amount=premium))).id) for branch in branch_ids]
    cases = container.application.cases()
    await cases.open_due_cases()
    listed = await cases.list(CaseFilters(), PageRequest(limit=100), EVERYTHING)
    by_policy = {int(v.policy_id): int(v.id) for v in listed.items}
    return [by_policy[p] for p in policy_ids]


@dataclass(frozen=True)
class Team:
    """Branch 1: manager M and agents A1, A2, A3; branch 2: agent B1; a viewer V in branch 1."""

    branch1: int
    branch2: int
    manager: int
    agents: tuple[int, int, int]
    other_agent: int
    viewer: int


async def make_team(container: AppContainer) -> Team:
    b1, b2 = await add_branch(container), await add_branch(container)

    async def user(role: str, branch: int) -> int:
        made = await make_user(container, role, branch_id=branch)
        assert made.id is not None
        return made.id

    manager = await user("manager", b1)
    agents = (await user("agent", b1), await user("agent", b1), await user("agent", b1))
    return Team(branch1=b1, branch2=b2, manager=manager, agents=agents, other_agent=await user("agent", b2),
                viewer=await user("viewer", b1))


def branch_actor(user_id: int, branch_id: int) -> Actor:
    return Actor(user_id=user_id, visibility=Visibility(reach="branch", user_id=user_id, branch_id=branch_id))


def own_actor(user_id: int) -> Actor:
    return Actor(user_id=user_id, visibility=Visibility(reach="own", user_id=user_id))


def ids(case_ids: list[int]) -> list[str | int]:
    """Case ids as a command takes them."""
    return [*case_ids]
