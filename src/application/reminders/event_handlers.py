"""The jobs the reminders context runs in answer to events (its own and other contexts', subscribed by name)."""

from __future__ import annotations

from application.shared.events import EventRouter

__all__ = ["subscribe"]


def subscribe(router: EventRouter) -> None:
    """Subscribe this context's jobs to the events they answer."""
