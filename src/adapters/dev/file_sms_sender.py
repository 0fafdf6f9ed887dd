"""The development SMS sink (`make run`): every message becomes one JSON line a person can read; nothing is sent.

Each message is appended to `<directory>/sms.jsonl` as
`{"id", "at", "to", "body", "reference", "sender_id", "dlt_entity_id", "dlt_template_id"}`, the text kept as is
(UTF-8, no escapes, no GSM/UCS-2 segmenting). The id is `dev-sms-<n>`, n being the line's number in the file, so ids
stay unique across restarts and between processes sharing the directory (the file is locked while a line is added).

Like a provider, the sink refuses a `to` that is not E.164 (SmsRejected `invalid_number`); an unwritable directory
raises SmsUnavailable `sink_unwritable`.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from adapters.dev.jsonl_sink import append_numbered
from application.ports.sms import OutboundSms, SentSms, SmsRejected, SmsUnavailable
from domain.shared.clock import Clock

__all__ = ["SMS_FILE", "FileSmsSender"]

SMS_FILE = "sms.jsonl"
_E164 = re.compile(r"\+[1-9]\d{1,14}")



class FileSmsSender:
    def __init__(self, directory: Path, clock: Clock) -> None:
        self._directory = directory
        self._clock = clock

    @property
    def path(self) -> Path:
        """The JSON-lines file the messages are written to."""
        return self._directory / SMS_FILE

    async def send(self, sms: OutboundSms) -> SentSms:
        """Append the message to the sink file; raises SmsRejected like a real provider would."""
        if not _E164.fullmatch(sms.to):
            raise SmsRejected(f"{sms.to!r} is not an E.164 number", code="invalid_number")
        entry = {
            "at": self._clock.now().isoformat(),
            "to": sms.to,
            "body": sms.body,
            "reference": sms.reference,
            "sender_id": sms.sender_id,
            "dlt_entity_id": sms.dlt_entity_id,
            "dlt_template_id": sms.dlt_template_id,
        }
        try:
            provider_message_id = await asyncio.to_thread(append_numbered, self.path, "dev-sms-", entry)
        except OSError as exc:
            raise SmsUnavailable(f"cannot write to {self.path}: {exc}", code="sink_unwritable") from exc
        return SentSms(provider_message_id=provider_message_id, status="sent")
