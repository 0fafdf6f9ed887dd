"""In-memory notifications, once per (user, key)."""

from __future__ import annotations

from application.ports.notifications import Notice

__all__ = ["InMemoryNotifications"]


class InMemoryNotifications:
    def __init__(self) -> None:
        self.notices: list[Notice] = []

    async def notify(self, notice: Notice) -> bool:
        if any(n.user_id == notice.user_id and n.key == notice.key for n in self.notices):
            return False
        self.notices.append(notice)
        return True

    async def of_user(self, user_id: int) -> list[Notice]:
        return [n for n in self.notices if n.user_id == user_id]
