"""Quiet hours: messages go out only between `start` and `end` on the recipient's local clock.

The window is `start <= local time < end`; when `start > end` it crosses midnight (`start` to 24:00, then 00:00 to
`end`). `next_allowed` answers the earliest instant at or after `now` whose local wall time is in the window, using
the IANA rules of `zoneinfo` rather than a fixed offset:
- when a DST gap swallows `start` (clocks jump from 02:00 to 03:00 and `start` is 02:30), the window opens at the
  jump itself, the first instant whose wall time is past `start`;
- when an overlap repeats `start` (clocks fall back), the first occurrence after `now` counts, and a fall back
  that takes the wall clock back into the window opens it at that instant.
Between two offset changes the local clock is UTC plus a fixed offset, so the search walks those stretches; the
changes are found by probing every hour and bisecting to the second (tzdata never changes an offset twice within
an hour). An unknown or malformed zone name falls back to `default_timezone` (recipients' zones come from data
entry; a wrong one should not stop messages).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["QuietHours"]

_PROBE = timedelta(hours=1)
_MAX_OFFSET_CHANGES = 8  # a real zone changes offset at most twice in the two days a search can span


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Sending is allowed from `start` (inclusive) to `end` (exclusive), local time; `start > end` crosses midnight."""

    start: time = time(9, 0)
    end: time = time(21, 0)
    default_timezone: str = "Asia/Kolkata"

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("quiet hours are local wall times: start and end must be naive")
        if self.start == self.end:
            raise ValueError("start and end must differ (the window would be empty or the whole day)")
        if _known_zone(self.default_timezone) is None:
            raise ValueError(f"unknown default time zone {self.default_timezone!r}")

    def zone(self, name: str) -> ZoneInfo:
        """The zone called `name`, or the default zone when the name is unknown or malformed."""
        found = _known_zone(name)
        if found is not None:
            return found
        default = _known_zone(self.default_timezone)
        assert default is not None  # checked in __post_init__
        return default

    def allows(self, local: time) -> bool:
        """Whether the local wall time `local` is inside the sending window (any tzinfo on it is ignored)."""
        wall = local.replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    def is_open(self, now_utc: datetime, timezone: str) -> bool:
        """Whether a message may be sent at the instant `now_utc` to a recipient in `timezone`."""
        return self.allows(_aware(now_utc).astimezone(self.zone(timezone)).time())

    def next_allowed(self, now_utc: datetime, timezone: str) -> datetime:
        """`now_utc` itself when the window is open, else the instant (in UTC) it next opens in `timezone`."""
        zone = self.zone(timezone)
        if self.allows(_aware(now_utc).astimezone(zone).time()):
            return now_utc
        moment = now_utc.astimezone(UTC)
        for _ in range(_MAX_OFFSET_CHANGES):
            offset = _offset(moment, zone)
            opening = self._next_start(moment, offset)
            change = _first_offset_change(moment, opening, zone, offset)
            if change is None:
                return opening
            moment = change
            if self.allows(moment.astimezone(zone).time()):
                return moment
        raise RuntimeError(f"no opening found for {self} in {zone.key}")  # pragma: no cover - not reachable

    def _next_start(self, moment: datetime, offset: timedelta) -> datetime:
        """The next instant after `moment` whose wall time is `start`, if the offset stayed `offset`."""
        wall = (moment + offset).replace(tzinfo=None)
        day = wall.date() if wall.time() < self.start else wall.date() + timedelta(days=1)
        return (datetime.combine(day, self.start) - offset).replace(tzinfo=UTC)


def _known_zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("now_utc must be timezone-aware")
    return moment


def _offset(moment: datetime, zone: tzinfo) -> timedelta:
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    return offset


def _first_offset_change(after: datetime, until: datetime, zone: tzinfo, offset: timedelta) -> datetime | None:
    """The first instant in (`after`, `until`] where `zone` stops using `offset`, or None if it never does."""
    previous = after
    while previous < until:
        probe = min(previous + _PROBE, until)
        if _offset(probe, zone) != offset:
            return _bisect_change(previous, probe, zone, offset)
        previous = probe
    return None


def _bisect_change(before: datetime, after: datetime, zone: tzinfo, offset: timedelta) -> datetime:
    """The first whole second in (`before`, `after`] with another offset than `offset` (tzdata uses whole seconds)."""
    low, high = math.floor(before.timestamp()), math.ceil(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(datetime.fromtimestamp(middle, UTC), zone) == offset:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)
