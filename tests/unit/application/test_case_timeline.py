"""The timeline service: scope first, then every source merged by time, type rank and each source's order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.policies.timeline import CaseHeader, TimelineEntry, TimelineService, merge
from application.policies.timeline_entries import (
    case_event_entry,
    message_entry,
    payment_entries,
    refund_entry,
    reminder_step_entry,
    term_entry,
)
from application.shared.visibility import EVERYTHING, Visibility
from domain.shared.errors import NotFound

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Headers:
    def __init__(self, visible_to: int | None = None) -> None:
        self.visible_to = visible_to
        self.asked: list[tuple[int, Visibility]] = []

    async def header(self, case_id: int, visibility: Visibility) -> CaseHeader | None:
        self.asked.append((case_id, visibility))
        if visibility.reach != "all" and visibility.user_id != self.visible_to:
            return None
        return CaseHeader(case_id=case_id, case_number="RC-2026-000007", status="contacted", priority="high",
                          payment_status="pending", renewal_amount=Decimal("12500.00"), currency="INR",
                          created_at=at(0), closed_at=None, assigned_to=3)


class Source:
    def __init__(self, *entries: TimelineEntry) -> None:
        self._entries = list(entries)
        self.calls: list[int] = []

    async def entries(self, case_id: int) -> list[TimelineEntry]:
        self.calls.append(case_id)
        return list(self._entries)


def entry(minutes: int, kind: str, title: str = "", order: int = 0) -> TimelineEntry:
    return TimelineEntry(at=at(minutes), type=kind, title=title or kind, order=order)


async def test_history_merges_every_source_oldest_first_with_the_opening_first() -> None:
    desk = Source(entry(30, "status_changed"), entry(10, "assigned"))
    messages = Source(entry(20, "message"), entry(40, "reminder"))
    money = Source(entry(50, "payment"))
    service = TimelineService(headers=Headers(), sources=[desk, messages, money])

    timeline = await service.timeline(7, EVERYTHING)

    assert [h.type for h in timeline.history] == [
        "opened", "assigned", "message", "status_changed", "reminder", "payment"]
    assert [h.timestamp for h in timeline.history] == [at(m) for m in (0, 10, 20, 30, 40, 50)]
    assert timeline.case.case_number == "RC-2026-000007" and timeline.case.assigned_to == 3
    assert desk.calls == messages.calls == money.calls == [7]


async def test_at_the_same_instant_causes_come_before_what_follows() -> None:
    same = [entry(5, "term"), entry(5, "payment"), entry(5, "message"), entry(5, "reminder"),
            entry(5, "reminder_step"), entry(5, "status_changed"), entry(5, "some_new_desk_kind")]
    timeline = await TimelineService(headers=Headers(), sources=[Source(*same)]).timeline(7, EVERYTHING)
    kinds = [h.type for h in timeline.history][1:]
    assert kinds[:2] == ["status_changed", "some_new_desk_kind"]  # unknown kinds rank as desk events
    assert kinds[2:] == ["reminder_step", "reminder", "message", "payment", "term"]


async def test_same_time_and_type_keep_the_source_order() -> None:
    source = Source(entry(5, "payment", "refund 2", order=2), entry(5, "payment", "link", order=1))
    timeline = await TimelineService(headers=Headers(), sources=[source]).timeline(7, EVERYTHING)
    assert [h.title for h in timeline.history][1:] == ["link", "refund 2"]


async def test_a_case_outside_the_callers_scope_is_not_found_and_no_source_is_read() -> None:
    source = Source(entry(5, "message"))
    headers = Headers(visible_to=3)
    service = TimelineService(headers=headers, sources=[source])
    with pytest.raises(NotFound):
        await service.timeline(7, Visibility(reach="own", user_id=4))
    assert source.calls == []
    assert (await service.timeline(7, Visibility(reach="own", user_id=3))).case_id == 7


_KINDS = st.sampled_from(["status_changed", "note_added", "reminder_step", "reminder", "message", "payment", "term"])


@given(st.lists(st.lists(st.tuples(st.integers(0, 5), _KINDS, st.integers(0, 3)), max_size=6), max_size=5))
def test_merge_is_a_sorted_permutation_whatever_the_sources_order(raw: list[list[tuple[int, str, int]]]) -> None:
    batches = [[entry(m, kind, order=o) for m, kind, o in batch] for batch in raw]
    merged = merge(batches)
    assert sorted(map(repr, merged)) == sorted(repr(e) for b in batches for e in b)
    assert [e.sort_key() for e in merged] == sorted(e.sort_key() for e in merged)
    assert [e.sort_key() for e in merge(list(reversed(batches)))] == [e.sort_key() for e in merged]


def test_a_reminders_message_is_typed_reminder_and_others_message() -> None:
    common = {"channel": "whatsapp", "status": "failed", "template": "renewal_reminder_7_days", "subject": None,
              "body": "Dear Asha,\n  your policy   renews soon", "error_code": "131047", "error_text": "window",
              "created_by": None, "created_at": at(3), "times": {"queued": at(3), "failed": at(4), "sent": None}}
    reminder = message_entry(message_id=12, purpose="reminder", **common)
    other = message_entry(message_id=13, purpose=None, **common)
    assert (reminder.type, reminder.title) == ("reminder", "Reminder by WhatsApp: failed")
    assert (other.type, other.title) == ("message", "Message by WhatsApp: failed")
    assert reminder.description == "Dear Asha, your policy renews soon"
    assert reminder.data["messageId"] == "msg-12" and reminder.data["errorCode"] == "131047"
    assert reminder.data["times"] == {"queued": at(3).isoformat(), "failed": at(4).isoformat()}


def test_a_long_body_is_cut_in_the_description() -> None:
    e = message_entry(message_id=1, channel="email", status="sent", purpose="receipt", template=None, subject=None,
                      body="x" * 500, error_code=None, error_text=None, created_by=2, created_at=at(0), times={})
    assert e.description is not None and len(e.description) == 200 and e.description.endswith("…")
    assert e.title == "Message by e-mail: sent" and e.actor_id == 2


def test_reminder_step_names_its_offset_and_each_channel_tried() -> None:
    e = reminder_step_entry(send_id=4, offset_days=-15, template="renewal_reminder_15_days", due_on=date(2026, 11, 16),
                            status="sent", reason=None, created_at=at(0),
                            channels=[{"channel": "whatsapp", "status": "refused", "reason": "opted_out"},
                                      {"channel": "sms", "status": "queued", "messageId": "msg-9"}])
    assert e.title == "Reminder step T-15: sent"
    assert e.description == "WhatsApp (refused: opted_out), SMS (queued)"
    assert e.data["step"] == -15 and e.data["dueOn"] == "2026-11-16"
    late = reminder_step_entry(send_id=5, offset_days=3, template="renewal_overdue_3_days", due_on=date(2026, 12, 4),
                               status="skipped", channels=[], reason="quiet hours", created_at=at(0))
    assert (late.title, late.description) == ("Reminder step T+3: skipped", "quiet hours")


def _payment(**overrides: object) -> list[TimelineEntry]:
    values: dict[str, object] = {
        "payment_id": 3, "amount": Decimal("12500.00"), "currency": "INR", "status": "link_sent",
        "provider": "razorpay", "channel": "sms", "paid_amount": None, "method": None, "paid_at": None,
        "provider_payment_id": None, "flags": [], "created_by": 2, "created_at": at(0), "updated_at": at(9)}
    values.update(overrides)
    return payment_entries(**values)  # type: ignore[arg-type]


def test_payment_link_then_payment_received() -> None:
    link, paid = _payment(status="paid", paid_amount=Decimal("12500.00"), method="upi", paid_at=at(60),
                          provider_payment_id="pay_X")
    assert (link.title, link.data["event"], link.actor_id) == ("Payment link sent by SMS for 12500.00 INR",
                                                               "link_sent", 2)
    assert (paid.at, paid.title, paid.description) == (at(60), "Payment received: 12500.00 INR", "by upi")
    assert paid.data["paymentId"] == "pay-3" and paid.data["event"] == "paid"
    assert [e.type for e in (link, paid)] == ["payment", "payment"]


def test_partial_payment_expiry_and_flags_each_have_an_entry() -> None:
    link, partial, flag = _payment(
        status="partially_paid", paid_amount=Decimal("5000.00"), paid_at=at(30), channel=None,
        flags=[{"code": "partial_payment", "message": "5000.00 of 12500.00", "at": at(31).isoformat()}])
    assert link.title == "Payment link created for 12500.00 INR"
    assert (partial.title, partial.data["event"]) == ("Partial payment received: 5000.00 INR", "partially_paid")
    assert (flag.at, flag.title) == (at(31), "Payment flagged: partial payment")
    assert flag.description == "5000.00 of 12500.00"
    _, expired, undated = _payment(status="expired", flags=[{"code": "amount_mismatch"}])
    assert (expired.at, expired.title) == (at(9), "Payment expired")
    assert undated.at == at(9)  # a flag without a time takes the payment's last change


def test_refund_and_kept_term() -> None:
    refund = refund_entry(refund_id=2, payment_id=3, amount=Decimal("100.5"), currency="INR", status="processed",
                          provider_refund_id="rfnd_1", reason="duplicate", created_by=5, created_at=at(0))
    assert (refund.type, refund.title, refund.description) == ("payment", "Refund of 100.50 INR: processed",
                                                               "duplicate")
    assert refund.data["event"] == "refund" and refund.data["paymentId"] == "pay-3"
    term = term_entry(term_id=1, start_date=date(2025, 12, 2), end_date=date(2026, 12, 1),
                      renewal_date=date(2026, 12, 1), premium_amount=Decimal("12500"), currency="INR",
                      outcome="renewed", payment_id=3, created_at=at(0))
    assert term.title == "Previous term kept (renewed)"
    assert term.description == "2025-12-02 to 2026-12-01, premium 12500.00 INR"
    assert term.data["paymentId"] == "pay-3"


def test_desk_events_take_their_kind_as_type() -> None:
    e = case_event_entry(event_id=9, kind="status_changed", actor_id=4, at=at(0), summary="new → contacted",
                         data={"from": "new", "to": "contacted"})
    assert (e.type, e.title, e.description, e.actor_id) == ("status_changed", "Status changed", "new → contacted", 4)
    assert e.data == {"from": "new", "to": "contacted", "eventId": 9}
    odd = case_event_entry(event_id=10, kind="sla_breached", actor_id=None, at=at(0), summary="", data=None)
    assert (odd.title, odd.description) == ("Sla breached", None)
