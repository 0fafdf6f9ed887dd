"""The SQL audit trail: entries buffered by the unit and inserted into audit_log with its commit.

audit_log also holds the rows the base unit of work writes for domain events (no actor, no client details),
so `list` shows those as well.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_integrity_error
from adapters.sqlalchemy.listing import order_by
from adapters.sqlalchemy.repositories.identity import check_sort, like_escape
from adapters.sqlalchemy.tables.shared import audit_log
from application.identity.repositories import AuditFilters
from application.shared.pagination import Page, PageRequest, SortKey
from domain.identity.model import AuditEntry
from domain.identity.sessions import IP_ADDRESS_MAX, USER_AGENT_MAX, clip

__all__ = ["AUDIT_SORT", "REQUEST_ID_MAX", "SqlAlchemyAuditTrail", "audit_row"]

_A = audit_log.c
REQUEST_ID_MAX = 64
AUDIT_SORT: dict[str, ColumnElement[Any]] = {"occurredAt": _A.occurred_at, "id": _A.id}
DEFAULT_AUDIT_SORT = (SortKey("occurredAt", descending=True),)  # then id, descending too


def audit_row(entry: AuditEntry) -> dict[str, Any]:
    """The audit_log values of an entry; client details too long for their columns are cut, never refused."""
    return {"occurred_at": entry.occurred_at, "actor_id": entry.actor_id, "action": entry.action,
            "entity_type": entry.entity_type, "entity_id": entry.entity_id, "data": entry.data,
            "ip_address": clip(entry.ip_address, IP_ADDRESS_MAX),
            "user_agent": clip(entry.user_agent, USER_AGENT_MAX),
            "request_id": clip(entry.request_id, REQUEST_ID_MAX)}


def _entry(row: Row[*tuple[Any, ...]]) -> AuditEntry:
    return AuditEntry(action=row.action, entity_type=row.entity_type, entity_id=row.entity_id,
                      actor_id=row.actor_id, data=row.data or {}, ip_address=row.ip_address,
                      user_agent=row.user_agent, request_id=row.request_id, occurred_at=row.occurred_at, id=row.id)


def _conditions(filters: AuditFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.actor_id:
        where.append(_A.actor_id.in_(filters.actor_id))
    if filters.action:
        exact = [a for a in filters.action if not a.endswith(".")]
        prefixes = [a for a in filters.action if a.endswith(".")]
        where.append(or_(*([_A.action.in_(exact)] if exact else []),
                         *(_A.action.like(like_escape(p) + "%", escape="\\") for p in prefixes)))
    if filters.entity_type:
        where.append(_A.entity_type.in_(filters.entity_type))
    if filters.entity_id is not None:
        where.append(_A.entity_id == filters.entity_id)
    if filters.occurred_from is not None:
        where.append(_A.occurred_at >= filters.occurred_from)
    if filters.occurred_to is not None:
        where.append(_A.occurred_at < filters.occurred_to)
    return where


class SqlAlchemyAuditTrail:
    def __init__(self, session: AsyncSession, now: Callable[[], datetime]) -> None:
        self._session = session
        self._now = now
        self.pending: list[AuditEntry] = []

    def add(self, entry: AuditEntry) -> None:
        self.pending.append(entry if entry.occurred_at is not None
                            else dataclasses.replace(entry, occurred_at=self._now()))

    async def flush(self) -> None:
        """Insert the buffered entries (called by the unit's commit, before the transaction commits)."""
        if not self.pending:
            return
        rows = [audit_row(entry) for entry in self.pending]
        try:
            await self._session.execute(insert(audit_log), rows)
        except IntegrityError as exc:
            raise translate_integrity_error(exc) from None
        self.pending = []

    def discard(self) -> None:
        self.pending = []

    async def list(self, filters: AuditFilters, page: PageRequest) -> Page[AuditEntry]:
        check_sort(page.sort, tuple(AUDIT_SORT))
        where = _conditions(filters)
        total = (await self._session.execute(select(func.count()).select_from(audit_log).where(*where))).scalar_one()
        rows = await self._session.execute(
            select(audit_log).where(*where).order_by(*order_by(page.sort or DEFAULT_AUDIT_SORT, AUDIT_SORT, _A.id))
            .limit(page.limit).offset(page.offset))
        return Page(items=[_entry(row) for row in rows], page=page.page, limit=page.limit, total=total)
