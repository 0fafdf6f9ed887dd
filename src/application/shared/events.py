"""Routes domain events to the jobs that contexts subscribed to them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from application.ports.uow import Job
from domain.shared.events import DomainEvent

__all__ = ["EventRouter", "JobFactory"]

JobFactory = Callable[[DomainEvent], Job | None]


@dataclass
class EventRouter:
    """Maps an event name to job factories; immutable once the container is built."""

    _routes: dict[str, list[JobFactory]] = field(default_factory=dict)

    def subscribe(self, event_name: str, factory: JobFactory) -> None:
        self._routes.setdefault(event_name, []).append(factory)

    def jobs_for(self, events: Iterable[DomainEvent]) -> list[Job]:
        jobs: list[Job] = []
        for event in events:
            for factory in self._routes.get(event.name, ()):
                job = factory(event)
                if job is not None:
                    jobs.append(job)
        return jobs
