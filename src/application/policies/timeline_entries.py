"""How each kind of record reads on a case's timeline; the SQL and in-memory sources share these builders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from application.policies.timeline import TimelineEntry

__all__ = ["case_event_entry", "message_entry", "payment_entries", "refund_entry", "reminder_step_entry",
           "term_entry"]

_KIND_TITLES = {
    "status_changed": "Status changed", "assigned": "Case assigned", "escalated": "Case escalated",
    "note_added": "Note added", "priority_changed": "Priority changed", "contacted": "Customer contacted",
    "payment_link_sent": "Payment link sent", "flagged": "Case flagged", "renewed": "Policy renewed",
    "lapsed": "Case lapsed",
}
_CHANNELS = {"email": "e-mail", "sms": "SMS", "whatsapp": "WhatsApp"}
_PREVIEW = 200
_PAID_STATUSES = frozenset({"paid", "partially_paid", "refunded", "partially_refunded"})
_ENDED_STATUSES = frozenset({"failed", "expired", "cancelled"})


def _money(amount: Decimal | None, currency: str | None) -> str:
    return f"{Decimal(amount or 0):.2f} {currency or ''}".rstrip()


def _channel(channel: str | None) -> str:
    return _CHANNELS.get(channel or "", channel or "no channel")


def _preview(text: str | None) -> str | None:
    if not text:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= _PREVIEW else flat[:_PREVIEW - 1] + "…"


def _when(value: object) -> datetime | None:
    """A datetime, or an ISO text of one (JSON records); anything else is None."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def case_event_entry(*, event_id: int, kind: str, actor_id: int | None, at: datetime, summary: str,
                     data: Mapping[str, Any] | None) -> TimelineEntry:
    """A desk entry (status change, note, assignment, escalation, ...): its kind is its type."""
    title = _KIND_TITLES.get(kind, kind.replace("_", " ").capitalize())
    return TimelineEntry(at=at, type=kind, title=title, description=summary or None, actor_id=actor_id,
                         data={**(data or {}), "eventId": event_id}, order=event_id)


def message_entry(*, message_id: int, channel: str, status: str, purpose: str | None, template: str | None,
                  subject: str | None, body: str | None, error_code: str | None, error_text: str | None,
                  created_by: int | None, created_at: datetime,
                  times: Mapping[str, datetime | None]) -> TimelineEntry:
    """A message to the customer; a reminder's message is typed `reminder`."""
    kind = "reminder" if purpose == "reminder" else "message"
    title = f"{'Reminder' if kind == 'reminder' else 'Message'} by {_channel(channel)}: {status}"
    data: dict[str, Any] = {
        "messageId": f"msg-{message_id}", "channel": channel, "status": status, "purpose": purpose,
        "template": template, "errorCode": error_code, "errorText": error_text,
        "times": {name: t.isoformat() for name, t in times.items() if t is not None}}
    return TimelineEntry(at=created_at, type=kind, title=title, description=_preview(subject) or _preview(body),
                         actor_id=created_by, data=data, order=message_id)


def _step_label(offset_days: int) -> str:
    return f"T{offset_days:+d}" if offset_days else "T-0"


def reminder_step_entry(*, send_id: int, offset_days: int, template: str, due_on: date, status: str,
                        channels: Sequence[Mapping[str, Any]], reason: str | None,
                        created_at: datetime) -> TimelineEntry:
    """One step of the reminder ladder for the case's term, with each channel tried."""
    tried = []
    for c in channels:
        outcome = str(c.get("status") or "")
        why = c.get("reason")
        tried.append(f"{_channel(c.get('channel'))} ({outcome}{': ' + str(why) if why else ''})")
    description = ", ".join(tried) or reason
    data = {"step": offset_days, "dueOn": due_on.isoformat(), "template": template, "status": status,
            "channels": [dict(c) for c in channels], "reason": reason}
    return TimelineEntry(at=created_at, type="reminder_step",
                         title=f"Reminder step {_step_label(offset_days)}: {status}", description=description,
                         data=data, order=send_id)


def payment_entries(*, payment_id: int, amount: Decimal, currency: str, status: str, provider: str,
                    channel: str | None, paid_amount: Decimal | None, method: str | None, paid_at: datetime | None,
                    provider_payment_id: str | None, flags: Sequence[Mapping[str, Any]],
                    created_by: int | None, created_at: datetime, updated_at: datetime) -> list[TimelineEntry]:
    """A payment's link, and what became of it: paid (or partly), failed/expired/cancelled, each flag."""
    base = {"paymentId": f"pay-{payment_id}", "amount": amount, "currency": currency, "provider": provider,
            "status": status}
    sent = channel is not None
    entries = [TimelineEntry(
        at=created_at, type="payment", actor_id=created_by, order=payment_id * 100,
        title=(f"Payment link sent by {_channel(channel)}" if sent else "Payment link created")
        + f" for {_money(amount, currency)}",
        data={**base, "event": "link_sent" if sent else "link_created", "channel": channel})]
    if paid_at is not None and status in _PAID_STATUSES:
        partial = status == "partially_paid" or (paid_amount is not None and paid_amount < amount)
        entries.append(TimelineEntry(
            at=paid_at, type="payment", order=payment_id * 100 + 1,
            title=f"{'Partial payment' if partial else 'Payment'} received: {_money(paid_amount, currency)}",
            description=f"by {method}" if method else None,
            data={**base, "event": "partially_paid" if partial else "paid", "paidAmount": paid_amount,
                  "method": method, "providerPaymentId": provider_payment_id}))
    if status in _ENDED_STATUSES:
        entries.append(TimelineEntry(at=updated_at, type="payment", order=payment_id * 100 + 2,
                                     title=f"Payment {status}", data={**base, "event": status}))
    for n, flag in enumerate(flags, start=3):
        code = str(flag.get("code") or "flagged")
        entries.append(TimelineEntry(
            at=_when(flag.get("at")) or updated_at, type="payment", order=payment_id * 100 + n,
            title=f"Payment flagged: {code.replace('_', ' ')}", description=flag.get("message"),
            data={**base, "event": "flagged", "flag": dict(flag)}))
    return entries


def refund_entry(*, refund_id: int, payment_id: int, amount: Decimal, currency: str, status: str,
                 provider_refund_id: str | None, reason: str | None, created_by: int | None,
                 created_at: datetime) -> TimelineEntry:
    return TimelineEntry(
        at=created_at, type="payment", title=f"Refund of {_money(amount, currency)}: {status}", description=reason,
        actor_id=created_by, order=refund_id,
        data={"event": "refund", "refundId": f"refund-{refund_id}", "paymentId": f"pay-{payment_id}",
              "amount": amount, "currency": currency, "status": status, "providerRefundId": provider_refund_id})


def term_entry(*, term_id: int, start_date: date, end_date: date, renewal_date: date, premium_amount: Decimal,
               currency: str, outcome: str, payment_id: int | None, created_at: datetime) -> TimelineEntry:
    """The policy term this case closed, kept when the policy moved on (renewal) or ended (lapse)."""
    return TimelineEntry(
        at=created_at, type="term", title=f"Previous term kept ({outcome})",
        description=f"{start_date.isoformat()} to {end_date.isoformat()}, premium {_money(premium_amount, currency)}",
        order=term_id,
        data={"startDate": _iso(start_date), "endDate": _iso(end_date), "renewalDate": _iso(renewal_date),
              "premiumAmount": premium_amount, "currency": currency, "outcome": outcome,
              "paymentId": None if payment_id is None else f"pay-{payment_id}"})
