"""Settings the sending and delivery use cases are configured with: quiet hours, rate limits, retries, links."""

from __future__ import annotations

from datetime import time

import msgspec

from application.ports.rate_limits import RateLimit
from domain.messaging.model import Channel
from domain.messaging.quiet_hours import QuietHours

__all__ = ["MessagingConfig"]


class MessagingConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Provider rate limits are per provider bucket. The limiter lets `rate + burst` sends through in any one
    second (a full bucket, then the refill), so strict providers keep `burst` at 1.

    - email: Amazon SES's default sending rate, 14 messages a second;
    - sms: Twilio sends 1 message a second per long-code sender number, so the SMS rate is multiplied by
      `sms_senders` (the numbers in the sending pool);
    - whatsapp: the Cloud API's default throughput, 80 messages a second per business phone number.
    """

    quiet_start: time = time(9, 0)
    quiet_end: time = time(21, 0)
    default_timezone: str = "Asia/Kolkata"
    email_limit: RateLimit = RateLimit(rate=14, burst=1)
    sms_limit: RateLimit = RateLimit(rate=1, burst=1)  # per sender number
    sms_senders: int = 1
    whatsapp_limit: RateLimit = RateLimit(rate=80, burst=1)
    limiter_max_wait: float = 10.0  # seconds a delivery waits for a token before it is retried later instead
    max_attempts: int = 8  # provider calls per message before it fails `gave_up`
    backoff_base_seconds: float = 2.0
    backoff_cap_seconds: float = 600.0
    whatsapp_window_hours: int = 24  # WhatsApp's customer-service window
    sms_dlt_entity_id: str | None = None  # India's DLT principal entity id, sent with every SMS when set
    public_base_url: str = "http://localhost:8000"  # where /api/unsubscribe/{token} is reached from outside
    email_from: str | None = None  # the sender address; None = the email adapter's default

    @property
    def quiet_hours(self) -> QuietHours:
        return QuietHours(self.quiet_start, self.quiet_end, self.default_timezone)

    def limit_for(self, channel: Channel) -> RateLimit:
        """The rate limit of the provider bucket that sends `channel`."""
        if channel is Channel.EMAIL:
            return self.email_limit
        if channel is Channel.SMS:
            senders = max(1, self.sms_senders)
            return RateLimit(rate=self.sms_limit.rate * senders, burst=self.sms_limit.burst)
        return self.whatsapp_limit

    def unsubscribe_url(self, token: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/api/unsubscribe/{token}"
