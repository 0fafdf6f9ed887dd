"""arq tasks: each is one service call; transient failures become arq retries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, ParamSpec, TypedDict, TypeVar, cast

import httpx
import structlog
from arq import Retry
from sqlalchemy.exc import DBAPIError, OperationalError

from adapters.webhooks.sns_signature import DEFAULT_SNS_HOST_PATTERN
from application.ports.email import EmailUnavailable
from application.ports.whatsapp import WhatsAppUnavailable
from entrypoints.analytics_container import AnalyticsServices
from entrypoints.bridges import Bridges
from entrypoints.campaigns_container import CampaignsServices
from entrypoints.container import Application
from entrypoints.desk_container import DeskServices
from entrypoints.identity_container import IdentityServices
from entrypoints.messaging_container import MessagingServices
from entrypoints.payments_container import PaymentsServices
from entrypoints.reminders_container import RemindersServices
from entrypoints.uploads_container import UploadsServices

__all__ = [
    "JobContext",
    "apply_provider_event",
    "decide_ab_tests",
    "deliver_message",
    "ingest_upload",
    "lapse_overdue",
    "notify_lapse",
    "open_due_renewal_cases",
    "open_renewal_case_for_policy",
    "record_campaign_conversion",
    "record_campaign_reply",
    "relay_outbox",
    "renew_for_payment",
    "resume_stalled_uploads",
    "send_campaign_batch",
    "send_password_link",
    "start_due_campaigns",
    "sync_whatsapp_templates",
    "worker_task",
]

P = ParamSpec("P")
R = TypeVar("R")
log = structlog.get_logger("worker")


class JobContext(TypedDict, total=False):
    """App-scoped objects only: never a session (pitfall 7)."""

    app: Application
    identity: IdentityServices
    uploads: UploadsServices
    messaging: MessagingServices
    campaigns: CampaignsServices
    desk: DeskServices
    bridges: Bridges
    payments: PaymentsServices
    reminders: RemindersServices
    analytics: AnalyticsServices
    http: httpx.AsyncClient
    job_id: str
    job_try: int


def worker_task(fn: Callable[..., Awaitable[R]]) -> Any:
    """Bind job id and try to the logs; turn a lost database connection into a deferred retry."""

    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> R:
        structlog.contextvars.bind_contextvars(job_id=ctx.get("job_id"), job_try=ctx.get("job_try"))
        try:
            return await fn(ctx, *args, **kwargs)
        except (OperationalError, ConnectionError, OSError, EmailUnavailable, WhatsAppUnavailable,
                httpx.HTTPError) as exc:
            log.warning("job_transient_failure", error=type(exc).__name__)
            raise Retry(defer=min(60, 2 ** int(ctx.get("job_try", 1)))) from exc
        except DBAPIError as exc:
            if getattr(exc, "connection_invalidated", False):
                raise Retry(defer=5) from exc
            raise
        finally:
            structlog.contextvars.unbind_contextvars("job_id", "job_try")

    run.__name__ = fn.__name__
    run.__qualname__ = fn.__qualname__
    return run


@worker_task
async def relay_outbox(ctx: dict[str, Any]) -> int:
    return int(await ctx["app"].outbox_relay().relay_pending())


@worker_task
async def open_due_renewal_cases(ctx: dict[str, Any]) -> int:
    return int(await ctx["app"].cases().open_due_cases())


@worker_task
async def open_renewal_case_for_policy(ctx: dict[str, Any], policy_id: int) -> int:
    return int(await ctx["app"].cases().open_case_for_policy(int(policy_id)))


@worker_task
async def send_password_link(ctx: dict[str, Any], email: str | None = None, user_id: int | None = None,
                             invitation: bool = False) -> bool:
    """Email a password reset or invitation link; an unknown address sends nothing (the caller saw 202)."""
    return bool(await ctx["identity"].passwords().send_link(email=email, user_id=user_id, invitation=invitation))


@worker_task
async def ingest_upload(ctx: dict[str, Any], upload_id: int) -> str:
    """Import (or resume) one upload; "busy" when another worker is running it."""
    return str(await ctx["uploads"].ingestion().ingest(int(upload_id)))


@worker_task
async def resume_stalled_uploads(ctx: dict[str, Any]) -> int:
    """Queue again the uploads whose worker died mid-import (no batch committed for a minute)."""
    return int(await ctx["uploads"].ingestion().resume_stalled())


@worker_task
async def deliver_message(ctx: dict[str, Any], message_id: int) -> str:
    """Send one queued message; a retry (provider busy, no rate token yet) or a deferral (quiet hours) runs the
    job again later. The attempt limit is the message's own (MESSAGE_MAX_ATTEMPTS): arq's tries only bound it."""
    outcome = await ctx["messaging"].delivery().deliver(int(message_id))
    if outcome.outcome in ("retry", "deferred"):
        raise Retry(defer=max(1.0, float(outcome.retry_in or 1.0)))
    return str(outcome.outcome)


def _is_sns_host(host: str) -> bool:
    return DEFAULT_SNS_HOST_PATTERN.fullmatch(host) is not None


@worker_task
async def apply_provider_event(ctx: dict[str, Any], event_id: int) -> bool:
    """Apply one stored webhook event; an SNS subscription is confirmed first by visiting its SubscribeURL."""
    inbound = ctx["messaging"].inbound()
    url = await inbound.subscription_url(int(event_id), _is_sns_host)
    if url is not None:
        response = await ctx["http"].get(url, follow_redirects=False, timeout=10)
        response.raise_for_status()
    await inbound.apply(int(event_id))
    return True


@worker_task
async def sync_whatsapp_templates(ctx: dict[str, Any]) -> int:
    """Bring `whatsapp_templates` in line with Meta's message_templates (statuses, new and removed ones)."""
    return int(await ctx["messaging"].whatsapp_sync().run())


@worker_task
async def send_campaign_batch(ctx: dict[str, Any], campaign_id: int) -> str:
    """Send a campaign's next batches for about CAMPAIGN_JOB_SECONDS, then hand over to the next job (outbox)."""
    outcome = await ctx["campaigns"].engine().send_batch(int(campaign_id))
    if outcome.outcome == "retry":
        raise Retry(defer=max(1.0, float(outcome.retry_in or 1.0)))
    return str(outcome.outcome)


@worker_task
async def start_due_campaigns(ctx: dict[str, Any]) -> int:
    """Start scheduled campaigns whose time has come; resume stalled ones (their worker died)."""
    campaigns = ctx["campaigns"]
    return int(await campaigns.engine().start_due(campaigns.core.clock().now()))


@worker_task
async def decide_ab_tests(ctx: dict[str, Any]) -> int:
    """Pick the winner of A/B tests whose test phase has waited long enough, and send it to the rest."""
    campaigns = ctx["campaigns"]
    return int(await campaigns.ab_decider().decide_due(campaigns.core.clock().now()))


@worker_task
async def record_campaign_reply(ctx: dict[str, Any], channel: str, address: str, at: str) -> int | None:
    """An inbound SMS or WhatsApp message: the latest campaign recipient of that address replied."""
    return cast(int | None, await ctx["campaigns"].attribution().record_reply(channel, address,
                                                                           datetime.fromisoformat(at)))


@worker_task
async def record_campaign_conversion(ctx: dict[str, Any], customer_id: int, policy_id: int | None, at: str) -> int:
    """A renewal paid: the campaign recipients sent about it within the attribution window converted."""
    return int(await ctx["campaigns"].attribution().record_conversion(
        int(customer_id), None if policy_id is None else int(policy_id), datetime.fromisoformat(at)))


@worker_task
async def renew_for_payment(ctx: dict[str, Any], case_id: int, payment_id: int, amount: str, currency: str,
                            method: str | None, paid_at: str) -> str:
    """A verified payment covered the renewal: move the policy to its next term and close the case renewed."""
    return str(await ctx["app"].renewals().renew_for_payment(
        case_id=int(case_id), payment_id=int(payment_id), amount=Decimal(amount), currency=currency, method=method,
        paid_at=datetime.fromisoformat(paid_at)))


@worker_task
async def lapse_overdue(ctx: dict[str, Any]) -> int:
    """Daily: lapse the cases (and policies) whose grace period passed unpaid."""
    return int(await ctx["app"].renewals().lapse_overdue())


@worker_task
async def notify_lapse(ctx: dict[str, Any], case_id: int, owner_id: int | None = None) -> bool:
    """Tell the owner in the app and the customer by e-mail that the policy lapsed."""
    return bool(await ctx["bridges"].lapse_notifier().notify(int(case_id), None if owner_id is None else int(owner_id)))
