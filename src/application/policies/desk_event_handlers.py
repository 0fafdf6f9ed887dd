"""The jobs the renewal desk (policies context) runs in answer to other contexts' events, subscribed by name."""

from __future__ import annotations

from application.shared.events import EventRouter

__all__ = ["subscribe"]


def subscribe(router: EventRouter) -> None:
    """Subscribe the desk's jobs to the events they answer."""
