"""arq worker settings, built from the application settings (nothing connects at import)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings

from application.campaigns.attribution import RECORD_CONVERSION, RECORD_REPLY
from application.campaigns.engine import SEND_CAMPAIGN_BATCH
from application.identity.job_names import SEND_PASSWORD_LINK
from application.messaging.inbound import APPLY_PROVIDER_EVENT
from application.messaging.sending import DELIVER_MESSAGE
from application.policies.job_names import OPEN_DUE_RENEWAL_CASES, OPEN_RENEWAL_CASE_FOR_POLICY
from application.policies.renewal_handlers import LAPSE_OVERDUE, NOTIFY_LAPSE, RENEW_FOR_PAYMENT
from application.uploads.job_names import INGEST_UPLOAD
from entrypoints.container import AppContainer, build_container
from entrypoints.logging import configure_logging
from entrypoints.resources import open_resources
from entrypoints.runtime import freeze_startup_objects, hand_over_the_gil_sooner
from entrypoints.settings import Settings
from entrypoints.worker import analytics_tasks, desk_tasks, payments_tasks, reminders_tasks
from entrypoints.worker.tasks import (
    apply_provider_event,
    decide_ab_tests,
    deliver_message,
    ingest_upload,
    lapse_overdue,
    notify_lapse,
    open_due_renewal_cases,
    open_renewal_case_for_policy,
    record_campaign_conversion,
    record_campaign_reply,
    relay_outbox,
    renew_for_payment,
    resume_stalled_uploads,
    send_campaign_batch,
    send_password_link,
    start_due_campaigns,
    sync_whatsapp_templates,
)

__all__ = ["job_context", "worker_settings", "worker_settings_class"]

RELAY_EVERY_SECOND = set(range(60))


def job_context(container: AppContainer) -> dict[str, Any]:
    """What every task finds in its context: the app-scoped containers (never a session) and the HTTP client."""
    return {"app": container.application, "identity": container.identity, "uploads": container.uploads,
            "messaging": container.messaging, "campaigns": container.campaigns, "desk": container.desk,
            "bridges": container.bridges, "payments": container.payments, "reminders": container.reminders,
            "analytics": container.analytics, "http": container.messaging_providers.http_client()}


def worker_settings(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for arq's Worker; `max_jobs` is explicit (arq's default of 10 caps throughput)."""
    if not settings.redis_url:
        raise ValueError("REDIS_URL is required to run the worker")

    async def startup(ctx: dict[str, Any]) -> None:
        configure_logging(settings.log_level, json=settings.app_env != "test")
        container = build_container(settings)
        stack = AsyncExitStack()
        await stack.enter_async_context(open_resources(container))
        ctx.update(job_context(container))
        ctx["stack"] = stack
        freeze_startup_objects()
        hand_over_the_gil_sooner()

    async def shutdown(ctx: dict[str, Any]) -> None:
        stack: AsyncExitStack | None = ctx.get("stack")
        if stack is not None:
            await stack.aclose()

    return {
        "functions": [
            func(open_renewal_case_for_policy, name=OPEN_RENEWAL_CASE_FOR_POLICY, max_tries=5),
            func(open_due_renewal_cases, name=OPEN_DUE_RENEWAL_CASES, max_tries=5),
            func(send_password_link, name=SEND_PASSWORD_LINK, max_tries=5),
            # resumable: a killed run is picked up by resume_stalled_uploads, so no long arq lock is needed
            func(ingest_upload, name=INGEST_UPLOAD, max_tries=20, timeout=3600),
            # retries and quiet-hours deferrals come back as arq retries; MESSAGE_MAX_ATTEMPTS bounds the sends
            func(deliver_message, name=DELIVER_MESSAGE, max_tries=200, timeout=120),
            func(apply_provider_event, name=APPLY_PROVIDER_EVENT, max_tries=10, timeout=60),
            # one job sends batches for CAMPAIGN_JOB_SECONDS; a killed one is resumed by campaigns.start_due
            func(send_campaign_batch, name=SEND_CAMPAIGN_BATCH, max_tries=1000, timeout=240),
            func(record_campaign_reply, name=RECORD_REPLY, max_tries=10, timeout=30),
            func(record_campaign_conversion, name=RECORD_CONVERSION, max_tries=10, timeout=30),
            func(renew_for_payment, name=RENEW_FOR_PAYMENT, max_tries=10, timeout=60),
            func(notify_lapse, name=NOTIFY_LAPSE, max_tries=10, timeout=60),
            func(lapse_overdue, name=LAPSE_OVERDUE, max_tries=5, timeout=1800),
            *desk_tasks.FUNCTIONS, *payments_tasks.FUNCTIONS, *reminders_tasks.FUNCTIONS, *analytics_tasks.FUNCTIONS,
        ],
        "cron_jobs": [
            cron(resume_stalled_uploads, name="uploads.resume_stalled", second={15, 45}, run_at_startup=True,
                 timeout=25, keep_result=0),
            cron(relay_outbox, name="outbox.relay", second=RELAY_EVERY_SECOND, run_at_startup=True,
                 timeout=55, keep_result=0),
            # daily at 01:30 UTC (07:00 IST); run at start-up too so a restarted worker catches up
            cron(open_due_renewal_cases, name="policies.open_due_renewal_cases.daily", hour={1}, minute={30},
                 run_at_startup=True, timeout=1800),
            # daily at 02:00 UTC, after the cases are opened; at start-up too so a restarted worker catches up
            cron(lapse_overdue, name="policies.lapse_overdue.daily", hour={2}, minute={0}, run_at_startup=True,
                 timeout=1800),
            cron(sync_whatsapp_templates, name="messaging.sync_whatsapp_templates", minute={7, 37},
                 run_at_startup=True, timeout=120, keep_result=0),
            cron(start_due_campaigns, name="campaigns.start_due", second={0, 15, 30, 45}, run_at_startup=True,
                 timeout=60, keep_result=0),
            cron(decide_ab_tests, name="campaigns.decide_ab_tests", second={20}, run_at_startup=True, timeout=60,
                 keep_result=0),
            *desk_tasks.CRON_JOBS, *payments_tasks.CRON_JOBS, *reminders_tasks.CRON_JOBS, *analytics_tasks.CRON_JOBS,
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "max_jobs": settings.worker_max_jobs,
        "job_timeout": 300,
        "keep_result": 3600,
        "handle_signals": True,
    }


def worker_settings_class(settings: Settings) -> type:
    """A `WorkerSettings` class for arq's own runner, built from explicit settings."""
    return type("WorkerSettings", (), worker_settings(settings))
