"""Domain events: facts in the past tense, collected by aggregates and written to the outbox."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

__all__ = ["DomainEvent", "EventRecorder"]


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """Base of every event; `name` is the stable topic written to the outbox and audit log."""

    name: ClassVar[str] = "event"
    entity_type: ClassVar[str] = "unknown"
    entity_key: ClassVar[str] = "id"

    @property
    def entity_id(self) -> int | None:
        value = getattr(self, self.entity_key, None)
        return value if isinstance(value, int) else None

    def payload(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: (v.isoformat() if hasattr(v, "isoformat") else str(v) if _needs_str(v) else v)
                for k, v in data.items()}


def _needs_str(value: object) -> bool:
    return not isinstance(value, (str, int, float, bool, type(None), list, dict))


class EventRecorder:
    """Mixin that lets an aggregate record events for the unit of work to collect."""

    def __init__(self) -> None:
        self._events: list[DomainEvent] = []

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    def pull_events(self) -> list[DomainEvent]:
        events, self._events = self._events, []
        return events
