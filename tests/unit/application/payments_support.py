"""Payments tests' helpers: a RenewableCases over the policies context's case service (what the lead's bridge
does), and a case to collect for on either container."""

from __future__ import annotations

from decimal import Decimal

from dependency_injector import providers

from application.payments.ports import RenewableCase
from application.policies.ports import CaseFilters
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING, Visibility
from entrypoints.container import AppContainer
from tests.factories import new_customer, new_policy

CLOSED = frozenset({"renewed", "lapsed", "lost", "cancelled"})


class CaseServiceRenewableCases:
    """`RenewableCases` over `RenewalCaseService.get(case_id, visibility)` (raises NotFound when hidden)."""

    def __init__(self, container: AppContainer) -> None:
        self._container = container

    async def get(self, case_id: int, visibility: Visibility) -> RenewableCase:
        view = await self._container.application.cases().get(case_id, visibility)
        return RenewableCase(
            case_id=int(view.id), policy_id=int(view.policy_id), customer_id=int(view.customer_id),
            policy_number=view.policy_number, customer_name=view.customer_name, renewal_amount=view.renewal_amount,
            currency=view.currency, renewal_date=view.renewal_date, status=view.status,
            payment_status=view.payment_status, closed=view.status in CLOSED)


def wire_cases(container: AppContainer) -> CaseServiceRenewableCases:
    cases = CaseServiceRenewableCases(container)
    container.payments.renewable_cases.override(providers.Object(cases))
    return cases


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
