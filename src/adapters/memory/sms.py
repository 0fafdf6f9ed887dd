"""The in-memory SMS sender: records what was sent, refuses numbers and fails transiently when told to."""

from __future__ import annotations

import re

from application.ports.sms import OutboundSms, SentSms, SmsRejected, SmsUnavailable

__all__ = ["InMemorySmsSender"]

_E164 = re.compile(r"\+[1-9]\d{1,14}")


class InMemorySmsSender:
    """Refuses a `to` that is not E.164 (SmsRejected `invalid_number`) like a provider, then keeps the message.

    `sent` holds `(provider_message_id, sms)` pairs in sending order; ids are `mem-sms-<n>`.
    """

    def __init__(self) -> None:
        self.sent: list[tuple[str, OutboundSms]] = []
        self._refused: dict[str, str] = {}
        self._transient_failures: list[SmsUnavailable] = []

    def refuse(self, number: str, code: str = "rejected") -> None:
        """Make every send to `number` raise SmsRejected with `code` (an unsubscribed or invalid recipient)."""
        self._refused[number] = code

    def fail_next(self, times: int = 1, *, code: str = "unavailable", retry_after: float | None = None) -> None:
        """Make the next `times` sends raise SmsUnavailable (the provider is down or throttling)."""
        self._transient_failures.extend(
            SmsUnavailable("the in-memory SMS provider was told to fail", code=code, retry_after=retry_after)
            for _ in range(times))

    async def send(self, sms: OutboundSms) -> SentSms:
        if self._transient_failures:
            raise self._transient_failures.pop(0)
        if not _E164.fullmatch(sms.to):
            raise SmsRejected(f"{sms.to!r} is not an E.164 number", code="invalid_number")
        if sms.to in self._refused:
            raise SmsRejected(f"{sms.to} is refused", code=self._refused[sms.to])
        provider_message_id = f"mem-sms-{len(self.sent) + 1}"
        self.sent.append((provider_message_id, sms))
        return SentSms(provider_message_id=provider_message_id, status="sent")
