"""Use cases on renewal cases."""

from __future__ import annotations

from collections.abc import Callable

from application.policies.config import PoliciesConfig
from application.policies.ports import CaseFilters, PoliciesReadModel, PoliciesUnitOfWork
from application.policies.views import CaseView
from application.shared.pagination import Page, PageRequest
from application.shared.visibility import Visibility
from domain.shared.clock import Clock
from domain.shared.errors import NotFound

__all__ = ["RenewalCaseService"]


class RenewalCaseService:
    def __init__(self, *, uow: Callable[[], PoliciesUnitOfWork], read_model: PoliciesReadModel,
                 clock: Clock, config: PoliciesConfig) -> None:
        self._uow = uow
        self._read = read_model
        self._clock = clock
        self._config = config

    async def open_due_cases(self) -> int:
        """Open a case for every policy term inside its renewal window; return how many were opened."""
        return await self._open(policy_id=None)

    async def open_case_for_policy(self, policy_id: int) -> int:
        """Open the case of one policy if its term is due and has none yet."""
        return await self._open(policy_id=policy_id)

    async def _open(self, *, policy_id: int | None) -> int:
        async with self._uow() as uow:
            opened = await uow.cases.open_due_cases(
                today=self._clock.today(), window_days=self._config.renewal_window_days, policy_id=policy_id)
            for case in opened:
                case.opened()
                uow.track(case)
            await uow.commit()
        return len(opened)

    async def get(self, case_id: int, visibility: Visibility) -> CaseView:
        """The case, if the caller may see it; an invisible case is as not found as a missing one."""
        view = await self._read.get_case(case_id, visibility)
        if view is None:
            raise NotFound("case", case_id)
        return view

    async def list(self, filters: CaseFilters, page: PageRequest, visibility: Visibility) -> Page[CaseView]:
        """The cases the caller may see; totals count only those."""
        return await self._read.list_cases(filters, page, visibility)
