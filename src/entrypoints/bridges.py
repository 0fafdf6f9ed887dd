"""Bridges: one context's port implemented by another context's application service (wired here, in the
entrypoints, so that no context imports another)."""

from __future__ import annotations

from dependency_injector import containers, providers

from application.messaging.case_sending import CaseMessageSender
from application.policies.cases import RenewalCaseService
from application.policies.lapse_notices import LapseNotifier
from application.shared.visibility import EVERYTHING
from domain.policies.model import CLOSED_CASE_STATUSES
from domain.shared.errors import NotFound
from entrypoints.settings import Settings

__all__ = ["Bridges", "PolicyCaseGate"]


class PolicyCaseGate:
    """messaging's CaseGate over the policies context: a case's status when it is closed."""

    def __init__(self, cases: RenewalCaseService) -> None:
        self._cases = cases

    async def closed_status(self, case_id: int) -> str | None:
        try:
            case = await self._cases.get(case_id, EVERYTHING)
        except NotFound:
            return None
        return case.status if case.status in CLOSED_CASE_STATUSES else None


def _renewal_link_base(settings: Settings) -> str:
    return f"{settings.frontend_url.rstrip('/')}/renew/"


class Bridges(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()
    outside = providers.DependenciesContainer()  # user_events
    application = providers.DependenciesContainer()  # Application: customers, policies, cases
    messaging = providers.DependenciesContainer()  # MessagingServices
    case_messenger = providers.Singleton(CaseMessageSender, sending=messaging.sending,
                                         uow=adapters.messaging_uow.provider, directory=adapters.customer_directory)
    case_gate = providers.Singleton(PolicyCaseGate, application.cases)
    lapse_notifier = providers.Singleton(
        LapseNotifier, read_model=adapters.policies_read_model, notifications=adapters.notifications,
        user_events=outside.user_events, messenger=case_messenger,
        renewal_link_base=providers.Callable(_renewal_link_base, core.settings))
