"""Helpers of the e-mail contract suite: what a recipient got, a recording SMTP handler, a throw-away certificate."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import AuthResult, LoginPassword
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import RawMessage, ses_backends

from adapters.email_mime import all_recipients
from application.ports.email import EmailSender, OutboundEmail


@dataclass(frozen=True)
class Delivered:
    """What a recipient (or the provider) got, whatever the adapter."""

    recipients: frozenset[str]  # envelope addr-specs, Bcc included
    subject: str
    text: str
    html: str | None
    attachments: dict[str, bytes]
    headers: dict[str, str]
    raw: bytes | None  # the wire form; None for the in-memory sender


@dataclass(frozen=True)
class SenderUnderTest:
    name: str
    sender: EmailSender
    delivered: Callable[[], list[Delivered]]


def normalise_body(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip("\n")


def from_mime(raw: bytes, recipients: list[str]) -> Delivered:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None
    return Delivered(
        recipients=frozenset(parseaddr(value)[1] for value in recipients),
        subject=str(message["Subject"]), text=normalise_body(plain.get_content()),
        html=normalise_body(html.get_content()) if html is not None else None,
        attachments={str(part.get_filename()): bytes(part.get_payload(decode=True))
                     for part in message.iter_attachments()},
        headers={name: str(value) for name, value in message.items()}, raw=raw,
    )


def from_outbound(email: OutboundEmail) -> Delivered:
    headers = {"Subject": email.subject, "To": ", ".join(email.to), **email.headers}
    if email.reply_to:
        headers["Reply-To"] = email.reply_to
    return Delivered(
        recipients=frozenset(all_recipients(email)), subject=email.subject, text=email.text, html=email.html,
        attachments={a.filename: a.content for a in email.attachments}, headers=headers, raw=None,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Recorder:
    """An aiosmtpd handler keeping (mail_from, rcpt_tos, content); `nobody@` gets a 550, `busy@` a 450."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        if address.startswith("busy@"):
            return "450 4.2.1 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"mailer", b"s3cret")
    return AuthResult(success=True) if ok else AuthResult(success=False, handled=False)  # handled=True hangs


def write_self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """Write a throw-away certificate for 127.0.0.1 with its key: `cryptography` if installed, else `openssl`."""
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        openssl = shutil.which("openssl")
        assert openssl, "neither the cryptography package nor openssl is available"
        subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(key_file), "-out", str(cert_file)], check=True, capture_output=True)
        return cert_file, key_file
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    return context


def moto_raw_messages() -> list[RawMessage]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [message for message in backend.sent_messages if isinstance(message, RawMessage)]


class RecordingSesClient:
    """Stands in for the aioboto3 sesv2 client where moto cannot show the request (tags, configuration set)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.error = error

    async def send_email(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        return {"MessageId": "0100018c-test"}


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "SendEmail")


