"""Plumbing of the campaign sending tests over HTTP: a book of customers with policies due (open renewal cases),
in-memory senders, an engine with small batches and no rate limit, and the worker's part run in the test: the
queued `campaigns.send_batch` jobs of the outbox (each job key once, as arq drops a job id it has seen within
`keep_result`) and the A/B decider."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec
from dependency_injector import providers
from sqlalchemy import text

from adapters.memory.email import InMemoryEmailSender
from adapters.memory.sms import InMemorySmsSender
from application.campaigns.engine import SEND_CAMPAIGN_BATCH, BatchOutcome
from application.campaigns.engine_config import EngineConfig
from application.ports.rate_limits import RateLimit
from application.ports.sms import OutboundSms, SentSms
from entrypoints.container import AppContainer
from tests.factories import new_customer, new_policy
from tests.identity_support import EVERYTHING_ROLE, bearer, make_user, token_for

__all__ = [
    "CHROME", "SCANNER", "HookedSmsSender", "Worker", "all_recipients", "fake_senders", "fast_engine", "path_of",
    "public_client", "references", "seed_book", "signed_in_again",
]

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
SCANNER = "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))"
FIRST_NAMES = ("Asha", "Ravi", "Meera", "Kiran", "Divya", "Arjun", "Leela", "Sanjay")


class HookedSmsSender(InMemorySmsSender):
    """The in-memory SMS sender that awaits `hook` once, right after its `at`-th message (a person acting while a
    batch is in flight)."""

    def __init__(self) -> None:
        super().__init__()
        self.hook: Callable[[], Awaitable[None]] | None = None
        self.at = 0

    async def send(self, sms: OutboundSms) -> SentSms:
        sent = await super().send(sms)
        if self.hook is not None and len(self.sent) == self.at:
            hook, self.hook = self.hook, None
            await hook()
        return sent


def fake_senders(container: AppContainer) -> tuple[HookedSmsSender, InMemoryEmailSender]:
    """In-memory twins of the SMS and e-mail providers, for messaging and campaigns alike."""
    sms, email = HookedSmsSender(), InMemoryEmailSender(default_from="renewals@desk.localhost")
    container.messaging_providers.sms_sender.override(providers.Object(sms))
    container.outside.email_sender.override(providers.Object(email))
    return sms, email


def fast_engine(container: AppContainer, *, batch_size: int, batches_per_job: int) -> EngineConfig:
    """The wired engine settings with small batches, a few per job, and no provider rate limit (rate 0)."""
    unlimited = RateLimit(rate=0)
    config = msgspec.structs.replace(container.campaigns.engine_settings(), batch_size=batch_size,
                                     batches_per_job=batches_per_job, sms_limit=unlimited, email_limit=unlimited)
    container.campaigns.engine_settings.override(providers.Object(config))
    container.campaigns.engine.reset()
    container.campaigns.campaigns.reset()
    return config


async def seed_book(container: AppContainer, count: int, *, days_due: int = 20) -> None:
    """`count` customers with an e-mail, a mobile number and one motor policy due in `days_due` days, each with
    its open renewal case."""
    customers, policies = container.application.customers(), container.application.policies()
    for i in range(count):
        customer = await customers.register(new_customer(
            first_name=FIRST_NAMES[i % len(FIRST_NAMES)], last_name=f"Rao{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}",
            email=f"customer{i}@example.in", phone=f"+91 98{i:08d}"))
        await policies.issue(new_policy(customer.id, renewal_in_days=days_due))
    assert await container.application.cases().open_due_cases() == count  # what the worker's job does


class Worker:
    """Runs what the worker would: every queued `campaigns.send_batch` job once per job key, until none is new."""

    def __init__(self, container: AppContainer) -> None:
        self._container = container
        self._last_row = 0
        self._keys: set[str] = set()
        self.outcomes: list[BatchOutcome] = []

    async def _queued(self) -> list[tuple[int, int, str | None]]:
        engine = self._container.adapters.engine()
        assert engine is not None, "the SQL container"
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT id, (args->>'campaign_id')::int, job_key FROM outbox WHERE job_name = :name AND id > :after "
                "ORDER BY id"), {"name": SEND_CAMPAIGN_BATCH, "after": self._last_row})).all()
        return [(int(r[0]), int(r[1]), r[2]) for r in rows]

    async def run_jobs(self, *, limit: int = 200) -> list[BatchOutcome]:
        """Run the jobs queued since the last call and those they enqueue; their outcomes in order."""
        ran: list[BatchOutcome] = []
        engine = self._container.campaigns.engine()
        while queued := await self._queued():
            for row_id, campaign_id, key in queued:
                self._last_row = row_id
                if key is not None and key in self._keys:
                    continue  # arq keeps the result of a job id for an hour and refuses the same id meanwhile
                if key is not None:
                    self._keys.add(key)
                outcome = await engine.send_batch(campaign_id)
                assert outcome.outcome != "retry", outcome
                ran.append(outcome)
                assert len(ran) <= limit, "the chain of send_batch jobs does not end"
        self.outcomes.extend(ran)
        return ran


async def all_recipients(client: httpx.AsyncClient, campaign_id: str, status: str | None = None
                         ) -> list[dict[str, Any]]:
    """Every recipient of the campaign through GET /recipients, page by page."""
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        params: dict[str, Any] = {"page": page, "limit": 100}
        if status is not None:
            params["status"] = status
        response = await client.get(f"/api/campaigns/{campaign_id}/recipients", params=params)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        found.extend(data["recipients"])
        if page * 100 >= data["pagination"]["total"]:
            return found
        page += 1


def references(sms: InMemorySmsSender) -> Counter[str]:
    """How many messages went out under each of our references (`cr-<recipient id>`)."""
    return Counter(message.reference or "" for _, message in sms.sent)


def path_of(url: str) -> str:
    """The path of a tracking URL the message carries (the app is reached through the test transport)."""
    return urlsplit(url).path


def public_client(client: httpx.AsyncClient, user_agent: str) -> httpx.AsyncClient:
    """A client without a token, as a recipient's browser or a mail gateway reaches the public tracking routes."""
    return httpx.AsyncClient(transport=client._transport, base_url="http://testserver",
                             headers={"User-Agent": user_agent})


async def signed_in_again(client: httpx.AsyncClient, container: AppContainer) -> None:
    """A fresh access token for the desk (hours went by on the fixed clock: the first one expired)."""
    user = await make_user(container, EVERYTHING_ROLE)
    client.headers.update(bearer(await token_for(container, user)))
