"""Worker tasks: called directly with a job context, and end to end through a real arq worker on Redis."""

from __future__ import annotations

from typing import Any

import pytest
from arq.connections import RedisSettings
from arq.worker import Worker

from application.policies.ports import CaseFilters
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING
from entrypoints.container import AppContainer
from entrypoints.resources import open_resources
from entrypoints.worker.settings import worker_settings
from entrypoints.worker.tasks import open_due_renewal_cases, open_renewal_case_for_policy, relay_outbox
from tests.conftest import TEST_REDIS_URL, settings_for_tests
from tests.factories import new_customer, new_policy


async def test_tasks_are_single_service_calls(sql_container: AppContainer) -> None:
    customer = await sql_container.application.customers().register(new_customer())
    due = await sql_container.application.policies().issue(new_policy(customer.id, renewal_in_days=20))
    ctx: dict[str, Any] = {"app": sql_container.application, "job_id": "t-1", "job_try": 1}
    assert await open_renewal_case_for_policy(ctx, int(due.id)) == 1
    assert await open_renewal_case_for_policy(ctx, int(due.id)) == 0  # idempotent
    assert await open_due_renewal_cases(ctx) == 0


async def test_issued_policy_reaches_its_case_through_outbox_and_arq(sql_container: AppContainer) -> None:
    customer = await sql_container.application.customers().register(new_customer())
    due = await sql_container.application.policies().issue(new_policy(customer.id, renewal_in_days=10))
    async with open_resources(sql_container) as resources:
        assert resources.redis is not None
        await resources.redis.flushdb()
        assert await relay_outbox({"app": sql_container.application}) == 1
        settings = worker_settings(settings_for_tests())
        worker = Worker(functions=settings["functions"], redis_settings=RedisSettings.from_dsn(TEST_REDIS_URL),
                        burst=True, ctx={"app": sql_container.application}, max_jobs=settings["max_jobs"],
                        poll_delay=0.05, handle_signals=False)
        await worker.main()
        assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)
        await worker.close()
        await resources.redis.flushdb()
    page = await sql_container.application.cases().list(CaseFilters(), PageRequest(), EVERYTHING)
    assert [c.policy_id for c in page.items] == [due.id]


def test_worker_settings_are_explicit() -> None:
    settings = worker_settings(settings_for_tests(WORKER_MAX_JOBS="64"))
    assert settings["max_jobs"] == 64
    names = {f.name for f in settings["functions"]}
    assert names == {
        "policies.open_renewal_case_for_policy", "policies.open_due_renewal_cases", "policies.renew_for_payment",
        "policies.lapse_overdue", "policies.notify_lapse", "identity.send_password_link", "uploads.ingest",
        "messaging.deliver", "messaging.apply_provider_event", "campaigns.send_batch", "campaigns.record_reply",
        "campaigns.record_conversion", "desk.record_contact", "desk.mark_payment_pending", "desk.flag_case",
        "desk.notify_assignee", "payments.apply_event", "payments.send_receipt", "reminders.send_due",
        "reminders.stop_for_case", "reminders.fall_back"}
    assert {c.name for c in settings["cron_jobs"]} == {
        "outbox.relay", "policies.open_due_renewal_cases.daily", "policies.lapse_overdue.daily",
        "desk.refresh_priorities.daily", "reminders.send_due.daily", "uploads.resume_stalled",
        "messaging.sync_whatsapp_templates", "campaigns.start_due", "campaigns.decide_ab_tests",
        "analytics.prewarm_dashboard"}


def test_arq_command_line_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib
    import sys

    monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/renewals_test")
    monkeypatch.setenv("WORKER_MAX_JOBS", "12")
    sys.modules.pop("entrypoints.worker.main", None)
    module = importlib.import_module("entrypoints.worker.main")
    assert module.WorkerSettings.max_jobs == 12
    assert module.WorkerSettings.redis_settings.database == int(TEST_REDIS_URL.rsplit("/", 1)[1])
