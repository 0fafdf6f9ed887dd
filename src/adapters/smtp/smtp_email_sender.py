"""Send e-mail through an SMTP relay with aiosmtplib, one connection per message.

One connection per message keeps the adapter stateless and immutable (no pool to share between event loops, no
half-dead connection to detect); at the volumes of renewal notices the extra handshake is acceptable. A pool is the
next step if that ever changes.

Error mapping (the port's retry contract):
    - connect, TLS, timeout or disconnect problems, any refusal of the session itself (greeting, EHLO, STARTTLS)
      and every 4xx reply -> EmailUnavailable (retry later);
    - a failed AUTH (535 and friends, or 530 "must issue STARTTLS / authentication required") is a deployment
      problem, not this message's fault -> EmailUnavailable(code="auth_failed"), so the messages wait for a fix
      instead of being dropped;
    - a 5xx refusal of the sender, of every recipient or of the data -> EmailRejected (do not retry).
    If only *some* recipients are refused the server has accepted the message for the others; it counts as sent,
    since retrying would deliver it twice.
"""

from __future__ import annotations

import ssl
from typing import Literal

import aiosmtplib

from adapters.email_mime import all_recipients, build_mime, message_id_domain_for, sender_address
from application.ports.email import EmailRejected, EmailUnavailable, OutboundEmail, SentEmail

__all__ = ["SmtpEmailSender"]

_AUTH_CODES = frozenset({530, 534, 535, 538})


def _from_reply(code: int, reply: str, *, what: str) -> EmailRejected | EmailUnavailable:
    if code in _AUTH_CODES:
        return EmailUnavailable(f"SMTP authentication problem: {code} {reply}", code="auth_failed")
    if code >= 500:
        return EmailRejected(f"SMTP server refused the {what}: {code} {reply}", code=f"smtp_{code}")
    return EmailUnavailable(f"SMTP server deferred the {what}: {code} {reply}", code=f"smtp_{code}")


class SmtpEmailSender:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        security: Literal["starttls", "tls", "none"] = "starttls",
        default_from: str,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
        message_id_domain: str | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        if security not in ("starttls", "tls", "none"):
            raise ValueError(f"unknown SMTP security {security!r}")
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._security = security
        self._default_from = default_from
        self._timeout = timeout
        self._tls_context = tls_context
        self._message_id_domain = message_id_domain_for(default_from, message_id_domain)
        self._local_hostname = local_hostname

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=self._password,
            timeout=self._timeout,
            use_tls=self._security == "tls",
            start_tls=self._security == "starttls",
            tls_context=self._tls_context,
            local_hostname=self._local_hostname,
        )

    async def send(self, email: OutboundEmail) -> SentEmail:
        """Hand the message to the relay; raises EmailRejected or EmailUnavailable (see the module doc)."""
        message = build_mime(email, default_from=self._default_from, message_id_domain=self._message_id_domain)
        sender = sender_address(email, default_from=self._default_from).addr_spec
        recipients = all_recipients(email)
        smtp = self._client()
        try:
            await smtp.connect()
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise EmailUnavailable(f"SMTP login failed: {exc.code} {exc.message}", code="auth_failed") from exc
        except aiosmtplib.SMTPResponseException as exc:  # a 4xx/5xx greeting, EHLO or STARTTLS reply
            raise EmailUnavailable(f"SMTP server refused the session: {exc.code} {exc.message}",
                                   code=f"smtp_{exc.code}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:  # refused, timeout, TLS failure, STARTTLS missing
            raise EmailUnavailable(f"cannot reach SMTP server {self._host}:{self._port}: {exc}") from exc
        try:
            await smtp.send_message(message, sender=sender, recipients=recipients)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            mildest = min(refused.code for refused in exc.recipients)  # any 4xx means "try again later"
            raise _from_reply(mildest, detail, what="recipients") from exc
        except aiosmtplib.SMTPSenderRefused as exc:
            raise _from_reply(exc.code, exc.message, what=f"sender {exc.sender}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _from_reply(exc.code, exc.message, what="message") from exc
        except aiosmtplib.SMTPNotSupported as exc:  # e.g. a non-ASCII address and no SMTPUTF8
            raise EmailRejected(str(exc), code="smtp_not_supported") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise EmailUnavailable(f"SMTP conversation with {self._host}:{self._port} failed: {exc}") from exc
        finally:
            await _close(smtp)
        return SentEmail(provider_message_id=str(message["Message-ID"]))


async def _close(smtp: aiosmtplib.SMTP) -> None:
    """Say QUIT politely; the message is already accepted (or refused), so a failure here changes nothing."""
    if smtp.is_connected:
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError):
            smtp.close()
