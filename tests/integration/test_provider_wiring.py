"""The container picks each outside-world adapter from the settings, and open_resources connects it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aioboto3
import pytest
from moto.server import ThreadedMotoServer

from adapters.arq.arq_job_queue import ArqJobQueue
from adapters.aws.ses_email_sender import SesEmailSender
from adapters.dev.file_email_sender import FileEmailSender
from adapters.memory.email import InMemoryEmailSender
from adapters.memory.jobs import InMemoryJobQueue
from adapters.smtp.smtp_email_sender import SmtpEmailSender
from application.ports.email import OutboundEmail
from entrypoints.container import build_container, build_memory_container
from entrypoints.resources import open_resources
from tests.conftest import settings_for_tests


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_memory_container_uses_in_memory_twins() -> None:
    container = build_memory_container(settings_for_tests(REDIS_URL=""))
    assert isinstance(container.outside.email_sender(), InMemoryEmailSender)
    assert isinstance(container.outside.job_queue(), InMemoryJobQueue)


async def test_dev_provider_writes_mail_a_person_can_open(tmp_path: Path) -> None:
    container = build_container(settings_for_tests(EMAIL_PROVIDER="dev", DATA_DIR=str(tmp_path)))
    sender = container.outside.email_sender()
    assert isinstance(sender, FileEmailSender)
    await sender.send(OutboundEmail(to=("asha@example.in",), subject="Your renewal", text="Due soon"))
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1


def test_smtp_provider_is_built_from_the_smtp_settings() -> None:
    container = build_container(settings_for_tests(
        EMAIL_PROVIDER="smtp", SMTP_HOST="mail.internal", SMTP_PORT="2525", SMTP_FROM_EMAIL="desk@insurer.example",
        SMTP_USERNAME="desk", SMTP_PASSWORD="secret", SMTP_SECURITY="tls"))
    assert isinstance(container.outside.email_sender(), SmtpEmailSender)


async def test_ses_provider_gets_one_client_from_open_resources(moto_endpoint: str) -> None:
    container = build_container(settings_for_tests(
        EMAIL_PROVIDER="ses", AWS_REGION="us-east-1", AWS_ENDPOINT_URL=moto_endpoint, AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing", SES_FROM_EMAIL="renewals@insurer.example"))
    async with aioboto3.Session().client("sesv2", region_name="us-east-1", endpoint_url=moto_endpoint,
                                         aws_access_key_id="testing", aws_secret_access_key="testing") as admin:
        await admin.create_email_identity(EmailIdentity="renewals@insurer.example")
    async with open_resources(container):
        sender = container.outside.email_sender()
        assert isinstance(sender, SesEmailSender) and container.outside.email_sender() is sender
        sent = await sender.send(OutboundEmail(to=("asha@example.in",), subject="Renewal", text="Due soon"))
        assert sent.provider_message_id
        assert isinstance(container.outside.job_queue(), ArqJobQueue)
    await container.adapters.engine().dispose()
