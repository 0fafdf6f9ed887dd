"""The renewal loop end to end over HTTP on PostgreSQL and Redis (issue 7, must-show 1, 2 and 4): a policy due in
20 days, the daily jobs run day by day with an injected clock, the 15-day reminder goes out (never the 30-day
one), a payment link is sent, the provider's signed "paid" webhook arrives twice, the policy's next term exists
once, the case is renewed, no reminder follows, and the dashboard counts it. The payment gateways are the
production adapters (Razorpay payment links, Stripe Checkout) talking to local fakes of their APIs. And the
other ending: unpaid, the case and the policy lapse after the grace period, the owner is told, nothing follows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from adapters.system.clock import FixedClock
from tests.contract.payments_support import (
    RAZORPAY_KEY_ID,
    RAZORPAY_KEY_SECRET,
    STRIPE_SECRET_KEY,
    FakeRazorpay,
    FakeStripe,
    razorpay_link_paid,
    stripe_event,
    stripe_session,
)
from tests.e2e.http.renewal_loop_support import (
    RAZORPAY_WEBHOOK_SECRET,
    STRIPE_WEBHOOK_SECRET,
    Desk,
    desk_on,
    razorpay_signed,
    stripe_signed,
)
from tests.identity_support import bearer, make_user, token_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
PREMIUM_MINOR = 1250050  # 12500.50 in paise / cents


@pytest.fixture
def razorpay_api() -> AsyncIterator[FakeRazorpay]:
    fake = FakeRazorpay()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def stripe_api() -> AsyncIterator[FakeStripe]:
    fake = FakeStripe()
    fake.start()
    yield fake
    fake.stop()


def number(ident: str) -> int:
    return int(ident.rsplit("-", 1)[-1])


def reminders_of(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(m["template"], m["channel"]) for m in messages if m["purpose"] == "reminder"]


async def reach_the_15_day_reminder(desk: Desk) -> tuple[str, str]:
    """A policy due in 20 days, days T-20 .. T-15 lived: exactly the 15-day step, on SMS and e-mail."""
    policy_id, case_id = await desk.issue_policy(due_in_days=20)
    await desk.live_days(0, 4)
    assert reminders_of(await desk.messages(number(case_id))) == []  # T-20 .. T-16: nothing is due yet
    await desk.live_days(5, 5)
    sent = await desk.messages(number(case_id))
    # WhatsApp needs an opt-in this customer never gave: the step falls back to SMS; e-mail always
    assert sorted(reminders_of(sent)) == [("renewal_reminder_15_days", "email"), ("renewal_reminder_15_days", "sms")]
    assert all(m["status"] == "sent" for m in sent)
    return policy_id, case_id


async def send_payment_link(desk: Desk, case_id: str) -> dict[str, Any]:
    link: dict[str, Any] = await desk.ok("POST", f"/api/cases/{case_id}/payment-link", 201, json={"channel": "sms"})
    await desk.worker.drain()
    case = await desk.ok("GET", f"/api/cases/{case_id}")
    assert case["status"] == "payment_pending"
    [sms] = [m for m in await desk.messages(number(case_id)) if m["purpose"] == "payment_link"]
    assert (sms["channel"], sms["status"]) == ("sms", "sent")
    assert any(link["url"] in sms.body for _, sms in desk.sms.sent)
    return link


async def assert_renewed_once(desk: Desk, policy_id: str, case_id: str, before: dict[str, Any], *,
                              reminded: bool = True) -> None:
    after = await desk.ok("GET", f"/api/policies/{policy_id}")
    assert after["startDate"] == (_date(before["endDate"]) + timedelta(days=1)).isoformat()
    assert _date(after["endDate"]) - _date(after["startDate"]) == _date(before["endDate"]) - _date(before["startDate"])
    assert await desk.count("SELECT count(*) FROM policy_terms WHERE policy_id = :p", p=number(policy_id)) == 1
    case = await desk.ok("GET", f"/api/cases/{case_id}")
    assert (case["status"], case["paymentStatus"]) == ("renewed", "paid")
    timeline = await desk.ok("GET", f"/api/cases/{case_id}/timeline")
    kinds = [entry["type"] for entry in timeline["history"]]
    assert "policy_renewed" in kinds and "term" in kinds and "payment" in kinds
    assert ("reminder" in kinds) is reminded
    receipts = [m for m in await desk.messages(number(case_id)) if m["purpose"] == "receipt"]
    assert len(receipts) == 1  # the receipt goes once, however often the provider repeats itself
    ran = [name for name, _, _ in desk.worker.ran]
    assert ran.count("policies.renew_for_payment") == 1 and ran.count("campaigns.record_conversion") == 1


async def assert_nothing_follows(desk: Desk, case_id: str) -> None:
    reminders = reminders_of(await desk.messages(number(case_id)))
    await desk.live_days(6, 26)  # past the 7-day, 1-day and overdue steps, past the grace period
    assert reminders_of(await desk.messages(number(case_id))) == reminders
    assert (await desk.ok("GET", f"/api/cases/{case_id}"))["status"] == "renewed"


async def assert_dashboard_counts_it(desk: Desk) -> None:
    dashboard = await desk.ok("GET", "/api/analytics/dashboard")
    summary = dashboard["summary"]
    assert summary["renewed"] == 1
    assert float(summary["paymentCollected"]) == 12500.50


def _date(text: str) -> Any:
    from datetime import date
    return date.fromisoformat(text)


async def test_razorpay_the_15_day_reminder_a_link_a_webhook_twice_one_renewal_and_silence_after(
        clock: FixedClock, razorpay_api: FakeRazorpay) -> None:
    async with desk_on(clock, PAYMENT_PROVIDER="razorpay", RAZORPAY_KEY_ID=RAZORPAY_KEY_ID,
                       RAZORPAY_KEY_SECRET=RAZORPAY_KEY_SECRET, RAZORPAY_WEBHOOK_SECRET=RAZORPAY_WEBHOOK_SECRET,
                       RAZORPAY_API_BASE_URL=razorpay_api.url) as desk:
        policy_id, case_id = await reach_the_15_day_reminder(desk)
        before = await desk.ok("GET", f"/api/policies/{policy_id}")
        link = await send_payment_link(desk, case_id)
        [created] = razorpay_api.links
        assert created["reference_id"] == link["paymentId"] and created["amount"] == PREMIUM_MINOR

        body, headers = razorpay_signed(razorpay_link_paid(reference=link["paymentId"], amount=PREMIUM_MINOR))
        for _ in range(2):  # Razorpay retries until it sees a 2xx; both deliveries are accepted
            response = await desk.http.post("/api/webhooks/payments/razorpay", content=body, headers=headers)
            assert response.status_code == 200, response.text
        await desk.worker.drain()
        assert await desk.count("SELECT count(*) FROM payment_events") == 1

        payment = await desk.ok("GET", f"/api/payments/{link['paymentId']}")
        assert (payment["status"], payment["provider"]) == ("paid", "razorpay")
        await assert_renewed_once(desk, policy_id, case_id, before)
        await assert_nothing_follows(desk, case_id)
        await assert_dashboard_counts_it(desk)


async def test_stripe_the_same_loop_and_forged_or_stale_webhooks_change_nothing(
        clock: FixedClock, stripe_api: FakeStripe) -> None:
    async with desk_on(clock, PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY=STRIPE_SECRET_KEY,
                       STRIPE_WEBHOOK_SECRET=STRIPE_WEBHOOK_SECRET, STRIPE_API_BASE_URL=stripe_api.url) as desk:
        policy_id, case_id = await reach_the_15_day_reminder(desk)
        before = await desk.ok("GET", f"/api/policies/{policy_id}")
        link = await send_payment_link(desk, case_id)
        event = stripe_event("checkout.session.completed",
                             stripe_session(reference=link["paymentId"], amount=PREMIUM_MINOR))
        now = int(clock.now().timestamp())

        forged_body, forged = stripe_signed(event, now, secret="whsec_not_ours")
        stale_body, stale = stripe_signed(event, now - 301)  # Stripe's tolerance is 300 seconds
        for body, headers in ((forged_body, forged), (stale_body, stale)):
            refused = await desk.http.post("/api/webhooks/payments/stripe", content=body, headers=headers)
            assert refused.status_code == 403, refused.text
        await desk.worker.drain()
        assert await desk.count("SELECT count(*) FROM payment_events") == 0
        assert (await desk.ok("GET", f"/api/cases/{case_id}"))["status"] == "payment_pending"
        assert await desk.count("SELECT count(*) FROM policy_terms") == 0

        body, headers = stripe_signed(event, now)
        for _ in range(2):
            response = await desk.http.post("/api/webhooks/payments/stripe", content=body, headers=headers)
            assert response.status_code == 200, response.text
        await desk.worker.drain()
        assert await desk.count("SELECT count(*) FROM payment_events") == 1
        assert (await desk.ok("GET", f"/api/payments/{link['paymentId']}"))["status"] == "paid"
        await assert_renewed_once(desk, policy_id, case_id, before)
        await assert_nothing_follows(desk, case_id)
        await assert_dashboard_counts_it(desk)


async def test_unpaid_the_case_and_policy_lapse_after_the_grace_period_the_owner_is_told_and_nothing_follows(
        clock: FixedClock) -> None:
    async with desk_on(clock) as desk:
        agent = await make_user(desk.container, "agent")
        policy_id, case_id = await desk.issue_policy(due_in_days=20, gracePeriodDays=10)
        await desk.ok("POST", f"/api/cases/{case_id}/assign", json={"assigneeId": f"user-{agent.id}"})
        await desk.live_days(0, 30)  # T-20 .. T+10: the last day of grace
        case = await desk.ok("GET", f"/api/cases/{case_id}")
        assert case["status"] != "lapsed"
        steps = reminders_of(await desk.messages(number(case_id)))
        assert sorted({template for template, _ in steps}) == [
            "renewal_overdue_3_days", "renewal_reminder_15_days", "renewal_reminder_1_day", "renewal_reminder_7_days"]

        await desk.live_days(31, 31)  # T+11: the grace period has passed unpaid
        assert (await desk.ok("GET", f"/api/cases/{case_id}"))["status"] == "lapsed"
        assert (await desk.ok("GET", f"/api/policies/{policy_id}"))["status"] == "lapsed"
        assert await desk.count("SELECT count(*) FROM notifications WHERE user_id = :u AND type = 'case.lapsed'",
                                u=agent.id) == 1
        notices = [m for m in await desk.messages(number(case_id)) if m["purpose"] == "lapse_notice"]
        assert [(m["template"], m["channel"]) for m in notices] == [("lapse_notice", "email")]

        await desk.live_days(32, 60)
        assert reminders_of(await desk.messages(number(case_id))) == steps
        assert await desk.count("SELECT count(*) FROM notifications") == 1
        agent_view = bearer(await token_for(desk.container, agent))
        timeline = await desk.ok("GET", f"/api/cases/{case_id}/timeline", headers=agent_view)
        assert any(e["type"] == "status_changed" and e["data"].get("to") == "lapsed" for e in timeline["history"])
        renewal_month = {"from": "2026-12-01", "to": "2026-12-31"}  # the default range is 30 days around today
        dashboard = await desk.ok("GET", "/api/analytics/dashboard", params=renewal_month)
        assert dashboard["summary"]["lapsed"] == 1 and dashboard["summary"]["renewed"] == 0


async def test_a_partial_or_mismatched_payment_is_flagged_on_the_case_and_renews_nothing(
        clock: FixedClock, razorpay_api: FakeRazorpay) -> None:
    async with desk_on(clock, PAYMENT_PROVIDER="razorpay", RAZORPAY_KEY_ID=RAZORPAY_KEY_ID,
                       RAZORPAY_KEY_SECRET=RAZORPAY_KEY_SECRET, RAZORPAY_WEBHOOK_SECRET=RAZORPAY_WEBHOOK_SECRET,
                       RAZORPAY_API_BASE_URL=razorpay_api.url) as desk:
        _, case_id = await desk.issue_policy(due_in_days=20)
        link = await send_payment_link(desk, case_id)
        body, headers = razorpay_signed(razorpay_link_paid(reference=link["paymentId"], amount=PREMIUM_MINOR // 2))
        assert (await desk.http.post("/api/webhooks/payments/razorpay", content=body, headers=headers)).status_code \
            == 200
        await desk.worker.drain()
        case = await desk.ok("GET", f"/api/cases/{case_id}")
        assert case["status"] == "payment_pending" and case["paymentStatus"] == "partial"
        assert [flag["code"] for flag in case["flags"]] == ["partial_payment"]
        assert await desk.count("SELECT count(*) FROM policy_terms") == 0
        assert (await desk.ok("GET", f"/api/payments/{link['paymentId']}"))["status"] == "partially_paid"
        assert [m for m in await desk.messages(number(case_id)) if m["purpose"] == "receipt"] == []
        # a person settles it (refunds the part, or takes the rest offline) and clears the flag with a note
        resolve = f"/api/cases/{case_id}/flags/resolve"
        cleared = await desk.ok("POST", resolve, json={"code": "partial_payment", "paymentId": link["paymentId"],
                                                       "note": "customer refunded, new link sent"})
        assert cleared["flags"] == []
        again = await desk.http.post(resolve, json={"code": "partial_payment", "note": "twice"})
        assert again.status_code == 422 and again.json()["error"]["details"][0]["field"] == "code"
        timeline = await desk.ok("GET", f"/api/cases/{case_id}/timeline")
        assert [e["type"] for e in timeline["history"]].count("flag_resolved") == 1


async def test_a_cheque_taken_at_the_desk_renews_once_and_cannot_be_recorded_twice(clock: FixedClock) -> None:
    async with desk_on(clock) as desk:
        policy_id, case_id = await desk.issue_policy(due_in_days=20)
        before = await desk.ok("GET", f"/api/policies/{policy_id}")
        offline = f"/api/cases/{case_id}/payments/offline"
        bad = await desk.http.post(offline, json={"amount": "-1", "method": "cheque", "reference": " ",
                                                  "receivedAt": (clock.now() + timedelta(days=1)).isoformat()})
        assert bad.status_code == 422
        assert {d["field"] for d in bad.json()["error"]["details"]} == {"amount", "reference", "receivedAt"}
        cheque = {"amount": "12500.50", "method": "cheque", "reference": "HDFC 004512"}
        payment = await desk.ok("POST", offline, 201, json=cheque)
        assert (payment["status"], payment["provider"], payment["method"]) == ("paid", "offline", "cheque")
        await desk.worker.drain()
        await assert_renewed_once(desk, policy_id, case_id, before, reminded=False)
        again = await desk.http.post(offline, json=cheque)
        assert again.status_code == 409  # the case is renewed; the same cheque is never a second payment
        refund = await desk.http.post(f"/api/payments/{payment['id']}/refund", json={"reason": "bounced"})
        assert refund.status_code == 409  # handed back outside the system
        assert await desk.count("SELECT count(*) FROM payments") == 1


async def test_the_same_cheque_twice_on_an_open_case_is_refused_by_its_reference(clock: FixedClock) -> None:
    async with desk_on(clock) as desk:
        _, case_id = await desk.issue_policy(due_in_days=20)
        offline = f"/api/cases/{case_id}/payments/offline"
        part = {"amount": "5000.00", "method": "cheque", "reference": "SBI 1001"}
        await desk.ok("POST", offline, 201, json=part)
        await desk.worker.drain()
        case = await desk.ok("GET", f"/api/cases/{case_id}")
        assert case["paymentStatus"] == "partial" and [f["code"] for f in case["flags"]] == ["partial_payment"]
        again = await desk.http.post(offline, json=part)
        assert again.status_code == 409 and again.json()["error"]["details"][0]["field"] == "reference"
        assert await desk.count("SELECT count(*) FROM payments") == 1
