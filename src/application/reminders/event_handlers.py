"""The jobs the reminders context runs in answer to events (its own and other contexts', subscribed by name).

`policies.case_closed` (RenewalCaseClosed: case_id, policy_id, status, at) → `reminders.stop_for_case(case_id)`;
`messaging.message_failed` (MessageFailed: message_id, case_id, channel, purpose, error_code, at) with purpose
"reminder" → `reminders.fall_back(message_id, case_id, error_code)`. Subscribed by topic name, a published
contract, so this module never imports the other contexts.
"""

from __future__ import annotations

from application.ports.uow import Job
from application.reminders.job_names import FALL_BACK, STOP_FOR_CASE
from application.shared.events import EventRouter
from domain.shared.events import DomainEvent

__all__ = ["CASE_CLOSED", "MESSAGE_FAILED", "fall_back_job", "stop_job", "subscribe"]

CASE_CLOSED = "policies.case_closed"  # domain.policies.events.RenewalCaseClosed
MESSAGE_FAILED = "messaging.message_failed"  # domain.messaging.events.MessageFailed


def stop_job(event: DomainEvent) -> Job | None:
    """Reminders stop as soon as the case is closed (renewed, lapsed, lost, cancelled)."""
    case_id = int(event.payload()["case_id"])
    return Job(name=STOP_FOR_CASE, key=f"reminders-stop-{case_id}", args={"case_id": case_id})


def fall_back_job(event: DomainEvent) -> Job | None:
    """A reminder message that failed for good goes to the step's next channel."""
    payload = event.payload()
    if payload.get("purpose") != "reminder" or payload.get("case_id") is None:
        return None
    message_id = int(payload["message_id"])
    return Job(name=FALL_BACK, key=f"reminders-fall-back-{message_id}",
               args={"message_id": message_id, "case_id": int(payload["case_id"]),
                     "error_code": payload.get("error_code")})


def subscribe(router: EventRouter) -> None:
    """Subscribe this context's jobs to the events they answer."""
    router.subscribe(CASE_CLOSED, stop_job)
    router.subscribe(MESSAGE_FAILED, fall_back_job)
