"""The SQL repository of campaign recipients: set-based writes, claims that never overlap.

- `add_many` and `save_many` send a chunk of rows as ONE JSONB array unpacked by `jsonb_to_recordset`: one
  statement per `CHUNK` rows whatever their number (INSERT ... SELECT ... ON CONFLICT DO NOTHING on the target key;
  UPDATE ... FROM). The recipient's `channel` column is filled from its campaign.
- `claim` is one `UPDATE ... WHERE id IN (SELECT id ... ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED) RETURNING`:
  a row another transaction holds is skipped, never claimed twice. `expired_claims` locks its rows the same way.
- `recent_outcomes` orders by the row's `updated_at` (when it was decided), then id, newest first.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Integer,
    Row,
    Text,
    any_,
    bindparam,
    column,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.tables.campaigns import campaign_recipients, campaigns
from application.shared.pagination import Page, PageRequest
from domain.campaigns.model import Recipient, RecipientStatus
from domain.shared.errors import NotFound

FIRST_STAMPS = frozenset({"delivered_at", "opened_at", "clicked_at", "replied_at", "converted_at"})
__all__ = ["CHUNK", "DECIDED", "SqlAlchemyRecipientRepository", "recipient_from_row"]

Now = Callable[[], datetime]
AnyRow = Row[*tuple[Any, ...]]
_R = campaign_recipients.c
CHUNK = 5000
DECIDED = (RecipientStatus.SENT, RecipientStatus.FAILED, RecipientStatus.UNKNOWN)
_TIMES = ("lease_until", "sent_at", "delivered_at", "opened_at", "clicked_at", "replied_at", "converted_at")
# the fields of a recipient as written: name -> SQL type of the recordset column
_FIELDS: dict[str, Any] = {
    "id": BigInteger, "campaign_id": Integer, "customer_id": Integer, "policy_id": Integer, "address": Text,
    "status": Text, "variant": Text, "values": JSONB, "attempts": Integer, "provider_message_id": Text,
    "error_code": Text, "error_message": Text, **{name: DateTime(timezone=True) for name in _TIMES}}
_WRITTEN = tuple(name for name in _FIELDS if name != "id")


def recipient_from_row(row: AnyRow) -> Recipient:
    return Recipient(
        id=row.id, campaign_id=row.campaign_id, customer_id=row.customer_id, address=row.address,
        status=RecipientStatus(row.status), policy_id=row.policy_id, variant=row.variant,
        values=dict(row.values or {}), lease_until=row.lease_until, attempts=row.attempts,
        provider_message_id=row.provider_message_id, error_code=row.error_code, error_message=row.error_message,
        sent_at=row.sent_at, delivered_at=row.delivered_at, opened_at=row.opened_at, clicked_at=row.clicked_at,
        replied_at=row.replied_at, converted_at=row.converted_at)


def _record(recipient: Recipient) -> dict[str, Any]:
    """The recipient as one JSON object of the recordset."""
    found: dict[str, Any] = {name: getattr(recipient, name) for name in _FIELDS}
    found["status"] = RecipientStatus(recipient.status).value
    for name in _TIMES:
        if found[name] is not None:
            found[name] = found[name].isoformat()
    return found


def _recordset() -> Any:
    """`jsonb_to_recordset(:rows) AS rows(id bigint, campaign_id integer, ...)`."""
    columns = [column(name, kind) for name, kind in _FIELDS.items()]
    return (func.jsonb_to_recordset(bindparam("rows", type_=JSONB))
            .table_valued(*columns).render_derived(name="rows", with_types=True))


class SqlAlchemyRecipientRepository:
    def __init__(self, session: AsyncSession, now: Now) -> None:
        self._session = session
        self._now = now

    async def add_many(self, recipients: Sequence[Recipient]) -> int:
        rows = _recordset()
        now = self._now()
        source = (select(*(rows.c[name] for name in _WRITTEN), campaigns.c.campaign_type, bindparam("now"),
                         bindparam("now"))
                  .join_from(rows, campaigns, campaigns.c.id == rows.c.campaign_id))
        stmt = (insert(campaign_recipients).from_select([*_WRITTEN, "channel", "created_at", "updated_at"], source)
                .on_conflict_do_nothing(constraint="uq_campaign_recipients_target"))
        inserted = 0
        for start in range(0, len(recipients), CHUNK):
            chunk = [_record(r) for r in recipients[start:start + CHUNK]]
            result = await self._session.execute(stmt, {"rows": chunk, "now": now})
            inserted += int(result.rowcount)  # type: ignore[attr-defined]
        return inserted

    async def claim(self, campaign_id: int, *, after_id: int, limit: int, lease_until: datetime,
                    statuses: tuple[RecipientStatus, ...] = (RecipientStatus.PENDING,)) -> builtins.list[Recipient]:
        wanted = [RecipientStatus(s).value for s in statuses]
        chosen = (select(_R.id).where(_R.campaign_id == campaign_id,
                                      _R.status == any_(bindparam("statuses", wanted, type_=ARRAY(Text))),
                                      _R.id > after_id)
                  .order_by(_R.id).limit(limit).with_for_update(skip_locked=True))
        stmt = (update(campaign_recipients).where(_R.id.in_(chosen.scalar_subquery()))
                .values(status=RecipientStatus.SENDING.value, lease_until=lease_until, attempts=_R.attempts + 1,
                        updated_at=self._now())
                .returning(campaign_recipients))
        claimed = [recipient_from_row(row) for row in (await self._session.execute(stmt)).all()]
        return sorted(claimed, key=lambda r: r.id or 0)

    async def expired_claims(self, campaign_id: int, now: datetime, limit: int) -> builtins.list[Recipient]:
        stmt = (select(campaign_recipients)
                .where(_R.campaign_id == campaign_id, _R.status == RecipientStatus.SENDING.value, _R.lease_until < now)
                .order_by(_R.id).limit(limit).with_for_update(skip_locked=True))
        return [recipient_from_row(row) for row in (await self._session.execute(stmt)).all()]

    async def save_many(self, recipients: Sequence[Recipient]) -> None:
        if any(r.id is None for r in recipients):
            raise NotFound("campaign recipient", None)
        rows = _recordset()
        now = self._now()
        # a first-time stamp (delivered, opened, clicked, replied, converted) once set is kept: a writer holding an
        # older copy of the row (the tracking endpoint, the sender's batch) never clears one written meanwhile
        changes = {name: func.coalesce(_R[name], rows.c[name]) if name in FIRST_STAMPS else rows.c[name]
                   for name in _WRITTEN if name != "campaign_id"}
        stmt = (update(campaign_recipients).where(_R.id == rows.c.id)
                .values(**changes, updated_at=bindparam("now")).returning(_R.id))
        for start in range(0, len(recipients), CHUNK):
            chunk = [_record(r) for r in recipients[start:start + CHUNK]]
            found = set((await self._session.execute(stmt, {"rows": chunk, "now": now})).scalars())
            missing = [row["id"] for row in chunk if row["id"] not in found]
            if missing:
                raise NotFound("campaign recipient", missing[0])

    async def get(self, recipient_id: int) -> Recipient | None:
        row = (await self._session.execute(
            select(campaign_recipients).where(_R.id == recipient_id))).one_or_none()
        return None if row is None else recipient_from_row(row)

    async def find_by_provider_id(self, provider_message_id: str) -> Recipient | None:
        stmt = (select(campaign_recipients).where(_R.provider_message_id == provider_message_id)
                .order_by(_R.id).limit(1))
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else recipient_from_row(row)

    async def list(self, campaign_id: int, statuses: tuple[str, ...], page: PageRequest) -> Page[Recipient]:
        where: builtins.list[ColumnElement[bool]] = [_R.campaign_id == campaign_id]
        if statuses:
            where.append(_R.status.in_(statuses))
        total = (await self._session.execute(
            select(func.count()).select_from(campaign_recipients).where(*where))).scalar_one()
        stmt = select(campaign_recipients).where(*where).order_by(_R.id).limit(page.limit).offset(page.offset)
        items = [recipient_from_row(row) for row in (await self._session.execute(stmt)).all()]
        return Page(items=items, page=page.page, limit=page.limit, total=int(total))

    async def recent_outcomes(self, campaign_id: int, last: int) -> builtins.list[RecipientStatus]:
        stmt = (select(_R.status)
                .where(_R.campaign_id == campaign_id, _R.status.in_([s.value for s in DECIDED]))
                .order_by(_R.updated_at.desc(), _R.id.desc()).limit(last))
        return [RecipientStatus(s) for s in (await self._session.execute(stmt)).scalars()]

    async def set_status(self, campaign_id: int, from_status: RecipientStatus, to_status: RecipientStatus,
                         *, variant: str | None = None) -> int:
        changes: dict[str, Any] = {"status": RecipientStatus(to_status).value, "updated_at": self._now()}
        if variant is not None:
            changes["variant"] = variant
        stmt = (update(campaign_recipients)
                .where(_R.campaign_id == campaign_id, _R.status == RecipientStatus(from_status).value)
                .values(**changes))
        result = await self._session.execute(stmt)
        return int(result.rowcount)  # type: ignore[attr-defined]
