"""The SQL repository of outbound messages (`messages`).

`Message.times` is kept in one column per status (`sent_at`, `delivered_at`, ...). `get_for_update` and
`find_by_provider_id` lock the row until the unit of work ends, so a worker's send and a webhook's status
report on one message run one after the other. Lists: `created_from <= created_at < created_to`, newest first
then id unless sorted otherwise.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.repositories.messaging import AnyRow, paged, write
from adapters.sqlalchemy.tables.messaging import STATUS_TIMES, messages
from application.messaging.ports import MessageFilters
from application.shared.pagination import Page, PageRequest
from domain.messaging.delivery import MessageStatus
from domain.messaging.model import Channel, Message
from domain.shared.errors import NotFound

__all__ = ["MESSAGE_SORT", "SqlAlchemyMessageRepository"]

Now = Callable[[], datetime]
_M = messages.c
MESSAGE_SORT: dict[str, ColumnElement[Any]] = {"createdAt": _M.created_at, "updatedAt": _M.updated_at}
# the columns that are a Message attribute of the same name
_PLAIN = ("recipient", "body", "subject", "html", "customer_id", "case_id", "campaign_id", "template_id",
          "whatsapp_template", "whatsapp_language", "transactional", "purpose", "provider", "provider_message_id",
          "error_code", "error_text", "cost", "currency", "encoding", "segments", "attempts", "not_before",
          "idempotency_key", "request_hash", "created_by")


def _message(row: AnyRow) -> Message:
    data = row._mapping
    times = {status: data[column] for status, column in STATUS_TIMES.items() if data[column] is not None}
    return Message(id=row.id, channel=Channel(row.channel), status=MessageStatus(row.status),
                   parameters=builtins.list(row.parameters or []), headers=dict(row.headers or {}), times=times,
                   created_at=row.created_at, updated_at=row.updated_at, **{name: data[name] for name in _PLAIN})


def _values(message: Message) -> dict[str, Any]:
    """Every column a message's life can change (all but id and created_at)."""
    unknown = set(message.times) - set(STATUS_TIMES)
    if unknown:
        raise ValueError(f"unknown message status in times: {sorted(unknown)}")
    return {"channel": Channel(message.channel).value, "status": MessageStatus(message.status).value,
            "parameters": builtins.list(message.parameters), "headers": dict(message.headers),
            **{column: message.times.get(status) for status, column in STATUS_TIMES.items()},
            **{name: getattr(message, name) for name in _PLAIN}}


class SqlAlchemyMessageRepository:
    """`now` stamps created_at (unless given) and updated_at (the unit's clock)."""

    def __init__(self, session: AsyncSession, now: Now) -> None:
        self._session = session
        self._now = now

    async def add(self, message: Message) -> Message:
        now = self._now()
        row = await write(self._session, insert(messages).values(
            **_values(message), created_at=message.created_at or now, updated_at=now,
        ).returning(_M.id, _M.created_at, _M.updated_at))
        assert row is not None
        message.id, message.created_at, message.updated_at = row
        return message

    async def _one(self, condition: ColumnElement[bool], *, lock: bool = False) -> Message | None:
        stmt = select(messages).where(condition)
        if lock:
            stmt = stmt.with_for_update()
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _message(row)

    async def get(self, message_id: int) -> Message | None:
        return await self._one(_M.id == message_id)

    async def get_for_update(self, message_id: int) -> Message | None:
        return await self._one(_M.id == message_id, lock=True)

    async def find_by_provider_id(self, provider_message_id: str) -> Message | None:
        return await self._one(_M.provider_message_id == provider_message_id, lock=True)

    async def find_by_idempotency_key(self, created_by: int | None, key: str) -> Message | None:
        by = _M.created_by.is_(None) if created_by is None else _M.created_by == created_by
        return await self._one(by & (_M.idempotency_key == key))

    async def save(self, message: Message) -> None:
        row = await write(self._session, update(messages).where(_M.id == message.id).values(
            **_values(message), updated_at=self._now()).returning(_M.updated_at))
        if row is None:
            raise NotFound("message", message.id)
        message.updated_at = row.updated_at

    async def list(self, filters: MessageFilters, page: PageRequest) -> Page[Message]:
        where: builtins.list[ColumnElement[bool]] = []
        if filters.channels:
            where.append(_M.channel.in_([Channel(c).value for c in filters.channels]))
        if filters.statuses:
            where.append(_M.status.in_(builtins.list(filters.statuses)))
        for name in ("customer_id", "case_id", "campaign_id", "recipient"):
            value = getattr(filters, name)
            if value is not None:
                where.append(_M[name] == value)
        if filters.created_from is not None:
            where.append(_M.created_at >= filters.created_from)
        if filters.created_to is not None:
            where.append(_M.created_at < filters.created_to)
        rows, total = await paged(self._session, select(messages), where, page, MESSAGE_SORT, _M.id)
        return Page(items=[_message(r) for r in rows], page=page.page, limit=page.limit, total=total)
