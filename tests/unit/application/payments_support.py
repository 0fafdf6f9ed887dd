"""Payments tests' helpers: a case to collect for on either container (the container's own bridge answers the
payments context's RenewableCases)."""

from __future__ import annotations

from decimal import Decimal

from application.policies.ports import CaseFilters
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING
from entrypoints.container import AppContainer
from tests.factories import new_customer, new_policy


async def open_case(container: AppContainer, *, premium: Decimal = Decimal("12500.50"), renewal_in_days: int = 10,
                    **policy: object) -> int:
    """A customer, a policy due in `renewal_in_days` and its open renewal case; the case's id."""
    customer = await container.application.customers().register(new_customer())
    issued = await container.application.policies().issue(
        new_policy(customer.id, renewal_in_days=renewal_in_days, premium_amount=premium, **policy))
    cases = container.application.cases()
    await cases.open_due_cases()
    found = await cases.list(CaseFilters(), PageRequest(limit=100), EVERYTHING)
    return next(int(v.id) for v in found.items if v.policy_id == issued.id)
