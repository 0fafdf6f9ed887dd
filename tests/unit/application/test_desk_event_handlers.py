"""Which sent messages count as contact attempts on a case: reminders, links and the desk's own messages do;
receipts and lapse notices (service notices after the case closed) do not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from application.policies.desk_event_handlers import contact_job
from domain.messaging.events import MessageSent

AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def sent(purpose: str | None) -> MessageSent:
    return MessageSent(message_id=5, case_id=7, customer_id=3, channel="sms", purpose=purpose, at=AT)


@pytest.mark.parametrize("purpose", ["reminder", "payment_link", "desk", None])
def test_outreach_about_the_renewal_counts_once_per_message(purpose: str | None) -> None:
    job = contact_job(sent(purpose))
    assert job is not None and job.key == "desk-contact-5"
    assert (job.args["case_id"], job.args["message_id"], job.args["channel"]) == (7, 5, "sms")


@pytest.mark.parametrize("purpose", ["receipt", "lapse_notice"])
def test_service_notices_are_not_contact_attempts(purpose: str) -> None:
    assert contact_job(sent(purpose)) is None
