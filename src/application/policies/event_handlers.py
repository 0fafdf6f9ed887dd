"""Jobs the policies context runs in reaction to its own events."""

from __future__ import annotations

from application.policies.job_names import OPEN_RENEWAL_CASE_FOR_POLICY
from application.ports.uow import Job
from application.shared.events import EventRouter
from domain.policies.events import PolicyIssued, PolicyUpdated
from domain.shared.events import DomainEvent

__all__ = ["subscribe"]


def open_case_when_due(event: DomainEvent) -> Job | None:
    """A new or re-dated policy may already be inside its window: open its case now, not tomorrow."""
    if isinstance(event, PolicyIssued) or (isinstance(event, PolicyUpdated) and {
            "renewal_date", "status", "end_date"} & set(event.fields)):
        policy_id = event.policy_id
        return Job(name=OPEN_RENEWAL_CASE_FOR_POLICY, args={"policy_id": policy_id})
    return None


def subscribe(router: EventRouter) -> None:
    router.subscribe(PolicyIssued.name, open_case_when_due)
    router.subscribe(PolicyUpdated.name, open_case_when_due)
