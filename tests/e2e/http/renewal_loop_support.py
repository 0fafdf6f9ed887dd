"""The renewal loop on the real stack: a container built from settings naming a real payment provider (pointed at
a local fake of its API), the HTTP app over it, in-memory SMS/e-mail senders, and the worker's jobs and daily crons
run in the test with an injected clock."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from dependency_injector import providers
from sqlalchemy import text

from adapters.memory.email import InMemoryEmailSender
from adapters.memory.sms import InMemorySmsSender
from adapters.system.clock import FixedClock
from entrypoints.container import AppContainer, build_container
from entrypoints.http.app import create_app
from entrypoints.resources import open_resources
from tests.conftest import NOW, settings_for_tests, truncate_all
from tests.e2e.http.jobs_support import JobRunner
from tests.identity_support import EVERYTHING_ROLE, bearer, make_user, token_for

DAILY = ("policies.open_due_renewal_cases.daily", "policies.lapse_overdue.daily", "reminders.send_due.daily")
RAZORPAY_WEBHOOK_SECRET = "loop-razorpay-webhook-secret"
STRIPE_WEBHOOK_SECRET = "whsec_loop"


class Desk:
    """The signed-in desk, the worker and the calendar of one test."""

    def __init__(self, http: httpx.AsyncClient, container: AppContainer, clock: FixedClock, user: Any) -> None:
        self.http, self.container, self.clock, self.user = http, container, clock, user
        self.worker = JobRunner(container)
        self.sms, self.email = InMemorySmsSender(), InMemoryEmailSender(default_from="renewals@desk.localhost")
        container.messaging_providers.sms_sender.override(providers.Object(self.sms))
        container.outside.email_sender.override(providers.Object(self.email))
        container.messaging.delivery.reset()

    async def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = await self.http.request(method, path, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()["data"] if response.content else None

    async def issue_policy(self, *, due_in_days: int, premium: str = "12500.50", **policy: Any) -> tuple[str, str]:
        """A customer and a policy renewing in `due_in_days` days, over HTTP; (policy id, case id) once the
        case-opening job ran."""
        customer = await self.ok("POST", "/api/customers", 201, json={
            "firstName": "Asha", "lastName": "Rao", "email": "asha@example.in", "phone": "9876543210"})
        end = self.clock.today() + timedelta(days=due_in_days)
        issued = await self.ok("POST", "/api/policies", 201, json={
            "customerId": customer["id"], "policyType": "motor", "premiumAmount": premium,
            "startDate": (end - timedelta(days=364)).isoformat(), "endDate": end.isoformat(), **policy})
        await self.worker.drain()
        cases = await self.ok("GET", "/api/cases", params={"q": issued["policyNumber"]})
        [case] = cases["cases"]
        return str(issued["id"]), str(case["id"])

    async def live_days(self, first: int, last: int) -> None:
        """Days `first..last` after NOW, each at the same hour: the daily crons run, then every job they queued."""
        for day in range(first, last + 1):
            self.clock.advance(NOW + timedelta(days=day) - self.clock.now())
            self.http.headers.update(bearer(await token_for(self.container, self.user)))  # a fresh day's sign-in
            for name in DAILY:
                await self.worker.cron(name)
            await self.worker.drain()

    async def messages(self, case_id: int) -> list[dict[str, Any]]:
        """The case's messages: channel, purpose, template name, status, in id order."""
        engine = self.container.adapters.engine()
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT m.channel, m.purpose, t.name AS template, m.status, m.error_code FROM messages m "
                "LEFT JOIN templates t ON t.id = m.template_id WHERE m.case_id = :case ORDER BY m.id"),
                {"case": case_id})).all()
        return [dict(r._mapping) for r in rows]

    async def count(self, sql: str, **params: Any) -> int:
        engine = self.container.adapters.engine()
        async with engine.connect() as conn:
            return int((await conn.execute(text(sql), params)).scalar_one())


@asynccontextmanager
async def desk_on(clock: FixedClock, **settings: str) -> AsyncIterator[Desk]:
    """A fresh database, a container built from `settings`, the app, and a user who may do everything."""
    container = build_container(settings_for_tests(**settings))
    container.core.clock.override(clock)
    await truncate_all(container.adapters.engine())
    app = create_app(container)
    try:
        async with open_resources(container) as resources:
            app.state.resources = resources
            if resources.redis is not None:
                await resources.redis.flushdb()
            await container.messaging.templates().seed_starter_library()
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://testserver") as http:
                user = await make_user(container, EVERYTHING_ROLE)
                http.headers.update(bearer(await token_for(container, user)))
                yield Desk(http, container, clock, user)
    finally:
        await container.adapters.read_pool().close()
        await container.adapters.engine().dispose()


def razorpay_signed(payload: dict[str, Any], secret: str = RAZORPAY_WEBHOOK_SECRET) -> tuple[bytes, dict[str, str]]:
    """The body and headers Razorpay sends: `X-Razorpay-Signature` = hex HMAC-SHA256 of the raw body."""
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Razorpay-Signature": signature}


def stripe_signed(payload: dict[str, Any], timestamp: int,
                  secret: str = STRIPE_WEBHOOK_SECRET) -> tuple[bytes, dict[str, str]]:
    """The body and headers Stripe sends: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`."""
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "Stripe-Signature": f"t={timestamp},v1={signature}"}
