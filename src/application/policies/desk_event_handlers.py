"""The jobs the renewal desk (policies context) runs in answer to events, subscribed by name.

Other contexts' events are subscribed by their topic names (published contracts), so this module never imports
their domain; tests check the names against the events themselves.
"""

from __future__ import annotations

from typing import Any

from application.policies.desk_jobs import FLAG_CASE, MARK_PAYMENT_PENDING, NOTIFY_ASSIGNEE, RECORD_CONTACT
from application.ports.uow import Job
from application.shared.events import EventRouter
from domain.policies.events import CaseAssigned
from domain.shared.events import DomainEvent

__all__ = ["MESSAGE_SENT", "PAYMENT_FLAGGED", "PAYMENT_LINK_SENT", "contact_job", "flag_job", "notify_job",
           "payment_pending_job", "subscribe"]

MESSAGE_SENT = "messaging.message_sent"  # domain.messaging.events.MessageSent
PAYMENT_LINK_SENT = "payments.payment_link_sent"  # domain.payments.events.PaymentLinkSent
PAYMENT_FLAGGED = "payments.payment_flagged"  # domain.payments.events.PaymentFlagged


# service notices that follow a closed case are not attempts to reach the customer about the renewal
NOT_CONTACT_ATTEMPTS = frozenset({"receipt", "lapse_notice"})


def contact_job(event: DomainEvent) -> Job | None:
    """`desk.record_contact` for a message about a case that a provider accepted (reminders, payment links, the
    desk's own messages; not receipts or lapse notices)."""
    p: dict[str, Any] = event.payload()
    if p.get("case_id") is None or p.get("purpose") in NOT_CONTACT_ATTEMPTS:
        return None
    return Job(name=RECORD_CONTACT, key=f"desk-contact-{p['message_id']}", args={
        "case_id": int(p["case_id"]), "message_id": int(p["message_id"]), "channel": str(p["channel"]),
        "purpose": p.get("purpose"), "at": str(p["at"])})


def payment_pending_job(event: DomainEvent) -> Job | None:
    p: dict[str, Any] = event.payload()
    return Job(name=MARK_PAYMENT_PENDING, key=f"desk-link-{p['payment_id']}", args={
        "case_id": int(p["case_id"]), "payment_id": int(p["payment_id"]), "channel": str(p["channel"]),
        "url": str(p["url"]), "message_id": p.get("message_id"), "actor_id": p.get("actor_id"),
        "at": str(p["at"])})


def flag_job(event: DomainEvent) -> Job | None:
    p: dict[str, Any] = event.payload()
    details = {k: p.get(k) for k in ("expected", "received", "currency") if p.get(k) is not None}
    return Job(name=FLAG_CASE, key=f"desk-flag-{p['payment_id']}-{p['code']}", args={
        "case_id": int(p["case_id"]), "payment_id": int(p["payment_id"]), "code": str(p["code"]),
        "message": str(p["message"]), "at": str(p["at"]), "details": details})


def notify_job(event: DomainEvent) -> Job | None:
    """`desk.notify_assignee`: the new owner hears about the case over the WebSocket."""
    if not isinstance(event, CaseAssigned):
        return None
    return Job(name=NOTIFY_ASSIGNEE, key=f"desk-notify-{event.case_id}-{event.assignee_id}-{event.at.isoformat()}",
               args={"case_id": event.case_id, "assignee_id": event.assignee_id, "actor_id": event.actor_id,
                     "at": event.at.isoformat()})


def subscribe(router: EventRouter) -> None:
    """Subscribe the desk's jobs to the events they answer."""
    router.subscribe(MESSAGE_SENT, contact_job)
    router.subscribe(PAYMENT_LINK_SENT, payment_pending_job)
    router.subscribe(PAYMENT_FLAGGED, flag_job)
    router.subscribe(CaseAssigned.name, notify_job)
