"""SQL notifications: rows of `notifications`, once per (user, key) (the key is kept in `data`)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.tables.notifications import notifications
from application.ports.notifications import Notice

__all__ = ["SqlNotifications"]

_INSERT_ONCE = text("""
INSERT INTO notifications (user_id, type, title, message, data, priority)
SELECT :user_id, :type, :title, :message, CAST(:data AS jsonb), :priority
WHERE NOT EXISTS (SELECT 1 FROM notifications WHERE user_id = :user_id AND data->>'key' = :key)
RETURNING id
""")


class SqlNotifications:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_factory

    async def notify(self, notice: Notice) -> bool:
        data: dict[str, Any] = {**notice.data, "key": notice.key}
        async with self._sessions() as session, session.begin():
            # one notice per (user, key) even when two jobs race: serialise on the user's key
            await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                                  {"k": f"notice:{notice.user_id}:{notice.key}"})
            row = (await session.execute(_INSERT_ONCE, {
                "user_id": notice.user_id, "type": notice.type, "title": notice.title, "message": notice.message,
                "data": json.dumps(data, default=str), "priority": notice.priority, "key": notice.key})).first()
        return row is not None

    async def of_user(self, user_id: int) -> list[Notice]:
        c = notifications.c
        async with self._sessions() as session:
            rows = await session.execute(notifications.select().where(c.user_id == user_id).order_by(c.id))
        found: list[Notice] = []
        for row in rows:
            data = dict(row.data or {})
            key = str(data.pop("key", ""))
            found.append(Notice(user_id=row.user_id, type=row.type, title=row.title, message=row.message, key=key,
                                data=data, priority=row.priority))
        return found
