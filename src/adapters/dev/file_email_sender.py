"""The development e-mail sink (`make run`): every message becomes an `.eml` file a person can open; nothing is sent.

Each message is written to `<directory>/<sha256 of its Message-ID, 24 hex>.eml` (written whole, then renamed into
place) and described by one JSON line appended to `<directory>/index.jsonl`:
`{"message_id", "file", "from", "to", "cc", "bcc", "subject", "tags"}`. Bcc recipients are not in the `.eml`
headers (as on the wire), so the index is where they show.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path

from adapters.email_mime import build_mime, message_id_domain_for, sender_address
from application.ports.email import EmailUnavailable, OutboundEmail, SentEmail

__all__ = ["INDEX_FILE", "FileEmailSender"]

INDEX_FILE = "index.jsonl"


def _write(directory: Path, name: str, data: bytes, index_line: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{name}.partial"
    partial.write_bytes(data)
    partial.replace(directory / name)
    fd = os.open(directory / INDEX_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, index_line)  # one write of one short line with O_APPEND: lines from parallel sends never mix
    finally:
        os.close(fd)


class FileEmailSender:
    def __init__(self, directory: Path, *, default_from: str, message_id_domain: str | None = None) -> None:
        self._directory = directory
        self._default_from = default_from
        self._message_id_domain = message_id_domain_for(default_from, message_id_domain)

    @property
    def directory(self) -> Path:
        return self._directory

    async def send(self, email: OutboundEmail) -> SentEmail:
        """Write the message as an `.eml` file and index it; raises EmailRejected like a real provider would."""
        message = build_mime(email, default_from=self._default_from, message_id_domain=self._message_id_domain)
        message_id = str(message["Message-ID"])
        name = hashlib.sha256(message_id.encode()).hexdigest()[:24] + ".eml"
        entry = {
            "message_id": message_id,
            "file": name,
            "from": str(sender_address(email, default_from=self._default_from)),
            "to": list(email.to),
            "cc": list(email.cc),
            "bcc": list(email.bcc),
            "subject": email.subject,
            "tags": email.tags,
        }
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode()
        try:
            await asyncio.to_thread(_write, self._directory, name, message.as_bytes(), line)
        except OSError as exc:
            raise EmailUnavailable(f"cannot write to {self._directory}: {exc}", code="sink_unwritable") from exc
        return SentEmail(provider_message_id=message_id)
