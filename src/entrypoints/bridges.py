"""Bridges: one context's port implemented by another context's application service (wired here, in the
entrypoints, so that no context imports another)."""

from __future__ import annotations

from dependency_injector import containers, providers

from application.messaging.case_sending import CaseMessageSender
from application.messaging.ports import CustomerDirectory
from application.payments.ports import RenewableCase
from application.policies.cases import RenewalCaseService
from application.policies.lapse_notices import LapseNotifier
from application.shared.visibility import EVERYTHING, Visibility
from domain.policies.model import CLOSED_CASE_STATUSES
from domain.shared.errors import NotFound

__all__ = ["Bridges", "PolicyCaseGate", "PolicyRenewableCases"]


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


class PolicyRenewableCases:
    """payments' RenewableCases over the policies context (NotFound when the caller may not see the case)."""

    def __init__(self, cases: RenewalCaseService, directory: CustomerDirectory) -> None:
        self._cases = cases
        self._directory = directory

    async def get(self, case_id: int, visibility: Visibility) -> RenewableCase:
        view = await self._cases.get(case_id, visibility)
        contact = await self._directory.contact(int(view.customer_id))
        return RenewableCase(
            case_id=int(view.id), policy_id=int(view.policy_id), customer_id=int(view.customer_id),
            policy_number=view.policy_number, customer_name=view.customer_name, renewal_amount=view.renewal_amount,
            currency=view.currency, renewal_date=view.renewal_date, status=view.status,
            payment_status=view.payment_status, closed=view.status in CLOSED_CASE_STATUSES,
            customer_email=contact.email if contact else None, customer_phone=contact.phone if contact else None)


class Bridges(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()
    outside = providers.DependenciesContainer()  # user_events
    application = providers.DependenciesContainer()  # Application: customers, policies, cases
    messaging = providers.DependenciesContainer()  # MessagingServices
    case_messenger = providers.Singleton(CaseMessageSender, sending=messaging.sending,
                                         uow=adapters.messaging_uow.provider, directory=adapters.customer_directory)
    case_gate = providers.Singleton(PolicyCaseGate, application.cases)
    renewable_cases = providers.Singleton(PolicyRenewableCases, application.cases, adapters.customer_directory)
    lapse_notifier = providers.Singleton(
        LapseNotifier, read_model=adapters.policies_read_model, notifications=adapters.notifications,
        user_events=outside.user_events, messenger=case_messenger,
        renewal_link_base=core.settings.provided.renewal_link_base)
