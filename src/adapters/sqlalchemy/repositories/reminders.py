"""Repositories of the reminders context: `reminder_ladders` (steps as JSON) and `reminder_sends`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.tables.reminders import reminder_ladders, reminder_sends
from application.reminders.ports import IN_FLIGHT, ReminderSend, StoredLadder
from domain.reminders.ladder import Ladder, Step

__all__ = ["SqlAlchemyLadderRepository", "SqlAlchemySendRepository", "ladder_from_json", "steps_json"]

Now = Callable[[], datetime]
_L, _S = reminder_ladders.c, reminder_sends.c
_SEND_COLUMNS = (_S.id, _S.case_id, _S.policy_id, _S.term_end_date, _S.offset_days, _S.template, _S.due_on,
                 _S.status, _S.channels, _S.reason, _S.created_at, _S.updated_at)


def steps_json(ladder: Ladder) -> list[dict[str, Any]]:
    return [{"offsetDays": s.offset_days, "channels": list(s.channels), "template": s.template,
             "fallback": s.fallback, "always": list(s.always)} for s in ladder.steps]


def ladder_from_json(policy_type: str, steps: list[dict[str, Any]]) -> Ladder:
    return Ladder(policy_type, tuple(Step(int(s["offsetDays"]), tuple(s["channels"]), str(s["template"]),
                                          fallback=bool(s.get("fallback", True)), always=tuple(s.get("always", ())))
                                     for s in steps))


class SqlAlchemyLadderRepository:
    def __init__(self, session: AsyncSession, now: Now) -> None:
        self._session = session
        self._now = now

    async def all(self) -> list[StoredLadder]:
        rows = (await self._session.execute(select(reminder_ladders).order_by(_L.policy_type))).all()
        return [_stored(row._mapping) for row in rows]

    async def get(self, policy_type: str) -> StoredLadder | None:
        row = (await self._session.execute(select(reminder_ladders).where(_L.policy_type == policy_type))).first()
        return None if row is None else _stored(row._mapping)

    async def save(self, ladder: Ladder, updated_by: int | None) -> None:
        now = self._now()
        values = {"steps": steps_json(ladder), "updated_by": updated_by, "updated_at": now}
        await self._session.execute(
            pg_insert(reminder_ladders).values(policy_type=ladder.policy_type, created_at=now, **values)
            .on_conflict_do_update(index_elements=[_L.policy_type], set_=values))

    async def delete(self, policy_type: str) -> bool:
        result = await self._session.execute(delete(reminder_ladders).where(_L.policy_type == policy_type)
                                             .returning(_L.policy_type))
        return result.first() is not None


def _stored(row: Any) -> StoredLadder:
    return StoredLadder(ladder=ladder_from_json(row["policy_type"], row["steps"]), updated_by=row["updated_by"],
                        updated_at=row["updated_at"])


class SqlAlchemySendRepository:
    def __init__(self, session: AsyncSession, now: Now) -> None:
        self._session = session
        self._now = now

    async def claim(self, send: ReminderSend) -> bool:
        now = self._now()
        statement = (pg_insert(reminder_sends).values(
            case_id=send.case_id, policy_id=send.policy_id, term_end_date=send.term_end_date,
            offset_days=send.offset_days, template=send.template, due_on=send.due_on, status=send.status,
            channels=send.channels, reason=send.reason, created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=[_S.policy_id, _S.term_end_date, _S.offset_days])
            .returning(_S.id))
        send_id = (await self._session.execute(statement)).scalar_one_or_none()
        if send_id is None:
            return False
        send.id, send.created_at, send.updated_at = int(send_id), now, now
        return True

    async def save(self, send: ReminderSend) -> None:
        assert send.id is not None, "save a claimed send"
        send.updated_at = self._now()
        await self._session.execute(update(reminder_sends).where(_S.id == send.id).values(
            status=send.status, channels=send.channels, reason=send.reason, updated_at=send.updated_at))

    async def of_case(self, case_id: int, *, lock: bool = False) -> list[ReminderSend]:
        query = select(*_SEND_COLUMNS).where(_S.case_id == case_id).order_by(_S.term_end_date, _S.offset_days)
        if lock:
            query = query.with_for_update()
        return [_send(row._mapping) for row in (await self._session.execute(query)).all()]

    async def stalled(self, before: datetime, limit: int) -> list[ReminderSend]:
        query = (select(*_SEND_COLUMNS)
                 .where(_S.status == IN_FLIGHT, _S.created_at < before, _S.channels.contains([{"status": "planned"}]))
                 .order_by(_S.id).limit(limit))
        return [_send(row._mapping) for row in (await self._session.execute(query)).all()]


def _send(row: Any) -> ReminderSend:
    return ReminderSend(case_id=row["case_id"], policy_id=row["policy_id"], term_end_date=row["term_end_date"],
                        offset_days=row["offset_days"], template=row["template"], due_on=row["due_on"],
                        status=row["status"], channels=list(row["channels"]), reason=row["reason"], id=row["id"],
                        created_at=row["created_at"], updated_at=row["updated_at"])
