"""Turn an OutboundEmail into the MIME message every e-mail adapter sends or stores, refusing header injection.

Headers are written with `policy.SMTP` (non-ASCII subjects and display names become RFC 2047 encoded words); only
when an address itself is non-ASCII does the message switch to `policy.SMTPUTF8`. Bodies are always given a 7-bit
transfer encoding (quoted-printable or base64 when needed), so the bytes are safe for any relay and for SES raw sends.
Bcc recipients are validated but never written into the headers: adapters take them from `all_recipients`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy as email_policy
from email.errors import HeaderParseError, NonASCIILocalPartDefect
from email.headerregistry import Address, AddressHeader
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from application.ports.email import EmailAttachment, EmailRejected, OutboundEmail

__all__ = ["all_recipients", "build_mime", "message_id_domain_for", "parse_mailbox", "sender_address"]

_ASCII_POLICY = email_policy.SMTP.clone(cte_type="7bit")
_UTF8_POLICY = email_policy.SMTPUTF8.clone(cte_type="7bit")
_FIELD_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 ftext: printable ASCII except ':'
_MIME_TYPE = re.compile(r"([A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*)/([A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*)")
_RESERVED_HEADERS = frozenset({
    "from", "sender", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "return-path",
    "mime-version", "content-type", "content-transfer-encoding", "content-disposition",
})


def _single_line(field: str, value: str) -> None:
    """Refuse any line break (CR, LF or another Unicode line separator) or NUL in a header value."""
    if "\r" in value or "\n" in value or "\x00" in value or len(value.splitlines()) > 1:
        raise EmailRejected(f"{field} must be a single line (header injection refused)", code="header_injection")


def parse_mailbox(value: str, *, field: str = "address") -> Address:
    """Parse one mailbox (`addr@example.com` or `Name <addr@example.com>`).

    Raises:
        EmailRejected: the value is not exactly one well-formed address, or spans lines.
    """
    _single_line(field, value)
    try:
        header = email_policy.default.header_factory("To", value)
    except (HeaderParseError, IndexError, ValueError) as exc:
        raise EmailRejected(f"{field}: not a valid e-mail address: {value!r}", code="invalid_address") from exc
    addresses = header.addresses if isinstance(header, AddressHeader) else ()
    defects = [d for d in header.defects if not isinstance(d, NonASCIILocalPartDefect)]
    if len(addresses) != 1 or defects or not addresses[0].username or not addresses[0].domain:
        raise EmailRejected(f"{field}: not one valid e-mail address: {value!r}", code="invalid_address")
    return addresses[0]


def message_id_domain_for(default_from: str, override: str | None = None) -> str:
    """Check an adapter's configured sender (ValueError when unusable); its domain names our Message-IDs."""
    try:
        domain = parse_mailbox(default_from, field="default_from").domain
    except EmailRejected as exc:
        raise ValueError(str(exc)) from exc
    return override or domain


def sender_address(email: OutboundEmail, *, default_from: str) -> Address:
    """The message's From mailbox: its own `from_address`, else the deployment's default."""
    return parse_mailbox(email.from_address or default_from, field="From")


def all_recipients(email: OutboundEmail) -> list[str]:
    """Return the envelope recipients (To, Cc and Bcc addr-specs), de-duplicated, in order."""
    seen: dict[str, str] = {}
    for field, values in (("To", email.to), ("Cc", email.cc), ("Bcc", email.bcc)):
        for value in values:
            addr_spec = parse_mailbox(value, field=field).addr_spec
            seen.setdefault(addr_spec.lower(), addr_spec)
    return list(seen.values())


def _extra_headers(headers: dict[str, str]) -> list[tuple[str, str]]:
    checked: list[tuple[str, str]] = []
    for name, value in headers.items():
        if not _FIELD_NAME.fullmatch(name):
            raise EmailRejected(f"invalid header name {name!r}", code="header_injection")
        if name.lower() in _RESERVED_HEADERS:
            raise EmailRejected(f"header {name!r} is set by the sender itself", code="reserved_header")
        _single_line(f"header {name}", value)
        checked.append((name, value))
    return checked


def _attach(message: EmailMessage, attachment: EmailAttachment) -> None:
    match = _MIME_TYPE.fullmatch(attachment.content_type)
    if match is None or match.group(1).lower() == "multipart":
        raise EmailRejected(f"invalid attachment content type {attachment.content_type!r}", code="invalid_attachment")
    _single_line("attachment filename", attachment.filename)
    if not attachment.filename.strip():
        raise EmailRejected("attachment filename is empty", code="invalid_attachment")
    message.add_attachment(
        attachment.content, maintype=match.group(1).lower(), subtype=match.group(2).lower(),
        filename=attachment.filename,
    )


def build_mime(
    email: OutboundEmail, *, default_from: str, message_id_domain: str, now: datetime | None = None,
) -> EmailMessage:
    """Build the MIME message (with a fresh Message-ID) for `email`.

    Raises:
        EmailRejected: an address is invalid, there is no recipient, a header would span lines (injection),
            an extra header overrides one the sender sets, or an attachment is malformed.
    """
    sender = sender_address(email, default_from=default_from)
    to = [parse_mailbox(value, field="To") for value in email.to]
    cc = [parse_mailbox(value, field="Cc") for value in email.cc]
    bcc = [parse_mailbox(value, field="Bcc") for value in email.bcc]
    reply_to = parse_mailbox(email.reply_to, field="Reply-To") if email.reply_to is not None else None
    if not (to or cc or bcc):
        raise EmailRejected("the message has no recipient", code="no_recipients")
    _single_line("Subject", email.subject)
    extra = _extra_headers(email.headers)
    mailboxes = [sender, *to, *cc, *bcc, *([reply_to] if reply_to else [])]
    ascii_only = all(mailbox.addr_spec.isascii() for mailbox in mailboxes)
    message = EmailMessage(policy=_ASCII_POLICY if ascii_only else _UTF8_POLICY)
    try:
        message["From"] = str(sender)
        if to:
            message["To"] = ", ".join(str(mailbox) for mailbox in to)
        if cc:
            message["Cc"] = ", ".join(str(mailbox) for mailbox in cc)
        if reply_to is not None:
            message["Reply-To"] = str(reply_to)
        message["Subject"] = email.subject
        message["Date"] = format_datetime(now or datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain=message_id_domain)
        for name, value in extra:
            message[name] = value
        message.set_content(email.text)
        if email.html is not None:
            message.add_alternative(email.html, subtype="html")
        for attachment in email.attachments:
            _attach(message, attachment)
    except (HeaderParseError, TypeError, ValueError) as exc:
        raise EmailRejected(f"the message cannot be encoded: {exc}", code="invalid_message") from exc
    return message
