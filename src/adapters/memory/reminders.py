"""The reminders context's in-memory twins: ladders and reminder sends, staged until the unit commits.

`Tables.reminder_ladders` holds policy type -> `StoredLadder`, `Tables.reminder_sends` id -> `ReminderSend`. A claim
reserves its (policy, term end, offset) key in the store until the unit ends: a concurrent claim finds it taken, as
PostgreSQL's unique index makes it wait and then do nothing.
"""

from __future__ import annotations

import copy
from datetime import datetime

from adapters.memory.store import MemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWorkBase
from application.reminders.ports import IN_FLIGHT, ReminderSend, StoredLadder
from domain.reminders.ladder import Ladder

__all__ = ["InMemoryLadderRepository", "InMemoryRemindersUnitOfWork", "InMemorySendRepository"]


class InMemoryLadderRepository:
    def __init__(self, store: MemoryStore, at: datetime) -> None:
        self._store = store
        self._at = at
        self.staged: dict[str, StoredLadder | None] = {}  # None: deleted

    def _current(self) -> dict[str, StoredLadder]:
        ladders: dict[str, StoredLadder] = dict(self._store.tables.reminder_ladders)
        for policy_type, stored in self.staged.items():
            if stored is None:
                ladders.pop(policy_type, None)
            else:
                ladders[policy_type] = stored
        return ladders

    async def all(self) -> list[StoredLadder]:
        return [stored for _, stored in sorted(self._current().items())]

    async def get(self, policy_type: str) -> StoredLadder | None:
        return self._current().get(policy_type)

    async def save(self, ladder: Ladder, updated_by: int | None) -> None:
        self.staged[ladder.policy_type] = StoredLadder(ladder=ladder, updated_by=updated_by, updated_at=self._at)

    async def delete(self, policy_type: str) -> bool:
        found = policy_type in self._current()
        self.staged[policy_type] = None
        return found


class InMemorySendRepository:
    def __init__(self, store: MemoryStore, at: datetime) -> None:
        self._store = store
        self._at = at
        self.staged: dict[int, ReminderSend] = {}
        self.reserved: set[tuple[object, ...]] = set()

    def _current(self) -> dict[int, ReminderSend]:
        sends: dict[int, ReminderSend] = dict(self._store.tables.reminder_sends)
        sends.update(self.staged)
        return sends

    async def claim(self, send: ReminderSend) -> bool:
        key = ("reminder_sends", *send.key)
        if key in self._store.reserved_keys or any(s.key == send.key for s in self._current().values()):
            return False
        self._store.reserved_keys.add(key)
        self.reserved.add(key)
        send.id = self._store.next_value("reminder_sends.id")
        send.created_at = send.updated_at = self._at
        self.staged[send.id] = copy.deepcopy(send)
        return True

    async def save(self, send: ReminderSend) -> None:
        assert send.id is not None, "save a claimed send"
        send.updated_at = self._at
        self.staged[send.id] = copy.deepcopy(send)

    async def of_case(self, case_id: int, *, lock: bool = False) -> list[ReminderSend]:
        found = [s for s in self._current().values() if s.case_id == case_id]
        return [copy.deepcopy(s) for s in sorted(found, key=lambda s: (s.term_end_date, s.offset_days))]

    async def stalled(self, before: datetime, limit: int) -> list[ReminderSend]:
        found = [s for s in self._current().values()
                 if s.status == IN_FLIGHT and s.created_at is not None and s.created_at < before
                 and any(e.get("status") == "planned" for e in s.channels)]
        return [copy.deepcopy(s) for s in sorted(found, key=lambda s: s.id or 0)[:limit]]

    def release(self) -> None:
        self._store.reserved_keys.difference_update(self.reserved)
        self.reserved.clear()


class InMemoryRemindersUnitOfWork(InMemoryUnitOfWorkBase):
    """`InMemoryRemindersUnitOfWork(store, router)`; timestamps from the store's clock, one per unit."""

    ladders: InMemoryLadderRepository
    sends: InMemorySendRepository

    def _open(self) -> None:
        at = self._store.now()
        self.ladders = InMemoryLadderRepository(self._store, at)
        self.sends = InMemorySendRepository(self._store, at)

    def _apply(self, now: datetime) -> None:
        tables = self._store.tables
        for policy_type, stored in self.ladders.staged.items():
            if stored is None:
                tables.reminder_ladders.pop(policy_type, None)
            else:
                tables.reminder_ladders[policy_type] = stored
        for send_id, send in self.sends.staged.items():
            tables.reminder_sends[send_id] = copy.deepcopy(send)

    def _clear_staged(self) -> None:
        self.ladders.staged.clear()
        self.sends.staged.clear()

    def _release(self) -> None:
        self.sends.release()
        self.outbox.release()
