"""Send e-mail through Amazon SES (API v2 `SendEmail` with raw MIME content), on an injected aioboto3 client.

The raw content carries our own headers, HTML alternative and attachments. The envelope comes from `Destination`
(To, Cc and Bcc addr-specs; Bcc never appears in the MIME headers) and `FromEmailAddress`. SES replaces the
Message-ID header with its own, so the returned provider id is SES's `MessageId`, the id its delivery events carry.

SES speaks no SMTPUTF8: a non-ASCII address is refused here (EmailRejected) rather than by SES.
Tags must match SES's rules (ASCII letters, digits, `_` and `-`, at most 256 characters): other characters are
replaced by `_` and long values cut; a tag name with nothing left is refused.
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from adapters.email_mime import build_mime, message_id_domain_for, parse_mailbox, sender_address
from application.ports.email import EmailRejected, EmailUnavailable, OutboundEmail, SentEmail

__all__ = ["SesEmailSender", "ses_tags"]

_TAG_INVALID = re.compile(r"[^A-Za-z0-9_-]")
_TAG_MAX = 256
_REJECTED = frozenset({
    "MessageRejected", "MailFromDomainNotVerifiedException", "AccountSuspendedException",
    "SendingPausedException", "BadRequestException", "NotFoundException",
})
_UNAVAILABLE = frozenset({
    "Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceededException",
    "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalServerError",
    "RequestTimeout", "RequestTimeoutException",
    # credentials problems belong to the deployment, not to this message: keep the message for a retry
    "ExpiredToken", "ExpiredTokenException", "RequestExpired", "UnrecognizedClientException",
    "InvalidClientTokenId", "AccessDeniedException", "SignatureDoesNotMatch",
})


def ses_tags(tags: dict[str, str]) -> list[dict[str, str]]:
    """Return SES `EmailTags` for `tags`, with characters SES refuses replaced by `_`.

    Raises:
        EmailRejected: a tag name is empty.
    """
    cleaned: dict[str, str] = {}
    for name, value in tags.items():
        safe_name = _TAG_INVALID.sub("_", name)[:_TAG_MAX]
        if not safe_name:
            raise EmailRejected("an SES tag name cannot be empty", code="invalid_tag")
        cleaned[safe_name] = _TAG_INVALID.sub("_", value)[:_TAG_MAX]
    return [{"Name": name, "Value": value} for name, value in cleaned.items()]


def _ascii_addr_spec(value: str, *, field: str) -> str:
    addr_spec = parse_mailbox(value, field=field).addr_spec
    if not addr_spec.isascii():
        raise EmailRejected(f"{field}: SES cannot send to or from a non-ASCII address {addr_spec!r}",
                            code="smtputf8_unsupported")
    return addr_spec


def _from_client_error(exc: ClientError) -> EmailRejected | EmailUnavailable:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    text = f"SES {code}: {error.get('Message', '')}"
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in _REJECTED:
        return EmailRejected(text, code=code)
    if code in _UNAVAILABLE or status >= 500 or status == 429:
        return EmailUnavailable(text, code=code)
    return EmailRejected(text, code=code)


class SesEmailSender:
    def __init__(self, client: Any, *, default_from: str, configuration_set: str | None = None,
                 message_id_domain: str | None = None) -> None:
        """Wrap an open aioboto3 `sesv2` client (created once per process and injected)."""
        self._client = client
        self._default_from = default_from
        self._configuration_set = configuration_set
        self._message_id_domain = message_id_domain_for(default_from, message_id_domain)

    def _request(self, email: OutboundEmail) -> dict[str, Any]:
        message = build_mime(email, default_from=self._default_from, message_id_domain=self._message_id_domain)
        sender = sender_address(email, default_from=self._default_from)
        destination = {
            key: [_ascii_addr_spec(value, field=field) for value in values]
            for key, field, values in (("ToAddresses", "To", email.to), ("CcAddresses", "Cc", email.cc),
                                       ("BccAddresses", "Bcc", email.bcc))
            if values
        }
        request: dict[str, Any] = {
            "FromEmailAddress": _ascii_addr_spec(str(sender), field="From"),
            "Destination": destination,
            "Content": {"Raw": {"Data": message.as_bytes()}},
        }
        if email.tags:
            request["EmailTags"] = ses_tags(email.tags)
        if self._configuration_set is not None:
            request["ConfigurationSetName"] = self._configuration_set
        return request

    async def send(self, email: OutboundEmail) -> SentEmail:
        """Hand the message to SES; raises EmailRejected or EmailUnavailable (see the module doc)."""
        request = self._request(email)
        try:
            response = await self._client.send_email(**request)
        except ClientError as exc:
            raise _from_client_error(exc) from exc
        except ParamValidationError as exc:
            raise EmailRejected(f"SES request is invalid: {exc}", code="invalid_request") from exc
        except (BotoCoreError, aiohttp.ClientError, OSError) as exc:  # endpoint unreachable, timeouts, no credentials
            raise EmailUnavailable(f"cannot reach SES: {exc}", code=type(exc).__name__) from exc
        message_id = str(response.get("MessageId") or "")
        if not message_id:
            raise EmailUnavailable("SES answered without a MessageId", code="no_message_id")
        return SentEmail(provider_message_id=message_id)
