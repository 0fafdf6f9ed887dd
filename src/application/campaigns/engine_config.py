"""Settings of the campaign sending engine (batches, leases, retries, auto-pause, rate limits, quiet hours), and the
quiet-hours window it applies to each recipient's local clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from application.ports.rate_limits import RateLimit

__all__ = ["EngineConfig", "QuietWindow"]

_SAMPLE_VALUES = {
    "name": "Asha Rao", "first_name": "Asha", "policy_number": "POL-TEST-0001", "policy_type": "motor",
    "renewal_date": "2026-12-31", "premium": "12500.00", "renewal_amount": "12500.00", "branch": "MUM01",
}


class QuietWindow(msgspec.Struct, frozen=True, kw_only=True):
    """Messages go out from `start` (inclusive) to `end` (exclusive) local time; `start > end` crosses midnight.

    An unknown zone name falls back to `default_timezone` (a wrong zone in the data should not stop a campaign).
    At a daylight-saving jump the opening is read with `zoneinfo`'s first reading of the wall time (fold 0).
    """

    start: time = time(9, 0)
    end: time = time(21, 0)
    default_timezone: str = "Asia/Kolkata"

    def zone(self, name: str | None) -> ZoneInfo:
        for candidate in (name, self.default_timezone):
            if candidate:
                try:
                    return ZoneInfo(candidate)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        return ZoneInfo("UTC")

    def allows(self, local: time) -> bool:
        wall = local.replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    def opens_at(self, now: datetime, timezone: str | None = None) -> datetime:
        """`now` when a message may go now to someone in `timezone`, else the instant (UTC) the window opens."""
        zone = self.zone(timezone)
        local = now.astimezone(zone)
        if self.allows(local.time()):
            return now
        day = local.date() if local.time().replace(tzinfo=None) < self.start else local.date() + timedelta(days=1)
        return datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)


class EngineConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How the engine sends. The limits must be the messaging context's (same provider buckets), the SMS one
    already multiplied by the number of sender numbers.

    A batch claims at most `batch_size` recipients, and for a limited provider at most `rate * batch_seconds`, so
    it ends well within its lease (`lease_seconds`); a recipient is only sent while more than `lease_margin` (a
    share of the lease) is left, so reconciliation never meets a claim whose send may still start. One
    `send_batch` job runs batches for about `job_seconds` (the queue's pick-up delay is paid once per job, not
    once per batch), then enqueues the next job. A campaign that has work left and has not moved for
    `stall_seconds` (more than a lease) is resumed by `start_due`.
    """

    batch_size: int = 1000
    batch_seconds: float = 10.0
    job_seconds: float = 30.0
    batches_per_job: int = 10_000
    lease_seconds: float = 120.0
    lease_margin: float = 0.25
    stall_seconds: float = 180.0
    send_concurrency: int = 8  # messages in flight at once within a batch (the limiter paces them)
    max_attempts: int = 5  # claims of one recipient before it fails `gave_up`
    backoff_base_seconds: float = 2.0
    backoff_cap_seconds: float = 60.0  # keep it under stall_seconds: a backing-off chain is not a stalled one
    limiter_max_wait: float = 10.0
    reconcile_limit: int = 500  # expired claims asked about per round
    email_limit: RateLimit = RateLimit(rate=14, burst=1)
    sms_limit: RateLimit = RateLimit(rate=1, burst=1)
    whatsapp_limit: RateLimit = RateLimit(rate=80, burst=1)
    quiet_hours: QuietWindow = QuietWindow()
    auto_pause_window: int = 100  # the last N decided sends
    auto_pause_threshold: float = 0.5  # pause when the failure rate among them is above this
    auto_pause_minimum: int = 20  # ... and at least this many are decided
    email_from: str | None = None
    sms_dlt_entity_id: str | None = None
    sample_values: dict[str, str] = msgspec.field(default_factory=lambda: dict(_SAMPLE_VALUES))

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.send_concurrency < 1 or self.max_attempts < 1:
            raise ValueError("batch_size, send_concurrency and max_attempts must be at least 1")
        if not 0 < self.lease_margin < 1:
            raise ValueError("lease_margin is a share of the lease, between 0 and 1")
        if self.stall_seconds <= self.lease_seconds:
            raise ValueError("stall_seconds must exceed lease_seconds (a stalled campaign's claims have expired)")

    def limit_for(self, channel: str) -> RateLimit:
        if channel == "email":
            return self.email_limit
        if channel == "sms":
            return self.sms_limit
        return self.whatsapp_limit

    def batch_limit(self, channel: str) -> int:
        """How many recipients one batch claims on `channel`."""
        rate = self.limit_for(channel).rate
        if rate <= 0:
            return self.batch_size
        return max(1, min(self.batch_size, int(rate * self.batch_seconds)))

    def backoff(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds before the next try after `attempts` transient failures, never under the provider's Retry-After."""
        wait = min(self.backoff_cap_seconds, self.backoff_base_seconds * 2.0 ** max(0, attempts - 1))
        return max(wait, min(retry_after or 0.0, self.backoff_cap_seconds))
