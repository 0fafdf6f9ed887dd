"""Delivery status of an outbound message: it only moves forward, whatever order the receipts arrive in.

Providers report statuses by webhook, and webhooks are retried and reordered (Twilio's status callbacks:
https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks). So the kept status is
the highest-ranked one ever reported, a commutative and idempotent choice: folding any permutation of the same
reports, duplicates included, from `queued` gives the same result, and no step ever lowers the rank.

Rank: queued < sent < undelivered < failed < delivered < read.
- `delivered` and `read` outrank the failures: a delivery or read receipt proves the message arrived, so an
  earlier (or late-arriving) failure report for it is stale.
- `failed` outranks `undelivered`: `failed` is the provider's own verdict that the message never left it
  (invalid number, refused content...), while `undelivered` relays a carrier's receipt after sending; if both are
  reported, the provider's definitive refusal is the more specific fact (and the one that should stop retries to
  that address). Any fixed order would keep the fold order-independent; this one is chosen for that meaning.

`DeliveryTimes.record` keeps the EARLIEST time each status was reported, independently of the kept status, so a
late `sent` receipt still fills the time the message was sent.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

__all__ = ["FAILURES", "MESSAGE_STATUSES", "DeliveryTimes", "MessageStatus", "advance", "rank_of"]


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    DELIVERED = "delivered"
    READ = "read"


# In rank order, lowest first.
MESSAGE_STATUSES: tuple[MessageStatus, ...] = tuple(MessageStatus)
FAILURES = frozenset({MessageStatus.UNDELIVERED, MessageStatus.FAILED})
_RANK = {status: index for index, status in enumerate(MESSAGE_STATUSES)}


def _status(value: str) -> MessageStatus:
    try:
        return MessageStatus(value)
    except ValueError:
        raise ValueError(f"unknown message status {value!r}") from None


def rank_of(status: str) -> int:
    """The position of `status` in the forward order (queued = 0 ... read = 5); ValueError if unknown."""
    return _RANK[_status(status)]


def advance(current: str, reported: str) -> MessageStatus:
    """The status to keep when `reported` arrives for a message now in `current`: the higher-ranked of the two."""
    kept, new = _status(current), _status(reported)
    return new if _RANK[new] > _RANK[kept] else kept


class DeliveryTimes:
    """When each status was first reported, keyed by status name (`times["sent"]`)."""

    @staticmethod
    def record(times: dict[str, datetime], reported: str, at: datetime) -> dict[str, datetime]:
        """Keep `at` for `reported` unless an earlier time is already known; updates `times` and returns it.

        `at` must be timezone-aware (naive and aware times cannot be compared); unknown statuses raise ValueError.
        """
        status = _status(reported)
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("delivery times must be timezone-aware")
        known = times.get(status.value)
        if known is None or at < known:
            times[status.value] = at
        return times
