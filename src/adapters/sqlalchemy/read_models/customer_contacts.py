"""What messaging reads of the policies context's customers: name, e-mail, phone and channel preferences.

A read model over `customers` (owned by the policies context), so messaging never imports its tables.
`communication_preferences` is stored as given: a JSON object (`{"email": true, "sms": false}`, as the upload
parses it and the customers API takes it) or the upload's text form (`"email=no; sms=yes; whatsapp=yes"`); each
entry is read with the upload's own vocabulary (`domain.uploads.cells.parse_preferences`), and an entry that does
not read as yes/no is left out, so the channel's default applies. No time zone is stored yet: `timezone` is None.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.tables.policies import customers
from application.messaging.ports import CustomerContact
from domain.messaging.model import Channel
from domain.shared.errors import ValidationFailed
from domain.uploads.cells import parse_preferences

__all__ = ["SqlCustomerDirectory", "contact_address", "preferences_from_stored"]

_C = customers.c
_COLUMNS = (_C.id, _C.first_name, _C.last_name, _C.email, _C.phone, _C.communication_preferences)
_FIELD = "communication_preferences"
_AnyRow = Row[*tuple[Any, ...]]


def _entry(text: str) -> dict[str, bool]:
    try:
        return parse_preferences(text, field=_FIELD) or {}
    except ValidationFailed:
        return {}


def preferences_from_stored(stored: object) -> dict[str, bool]:
    """channel -> allowed, from a stored `communication_preferences` value (JSON object or `a=yes; b=no` text)."""
    if isinstance(stored, str):
        text = stored.strip()
        if not text.startswith("{"):
            found: dict[str, bool] = {}
            for part in text.replace(",", ";").split(";"):
                if part.strip():
                    found.update(_entry(part))
            return found
        try:
            stored = json.loads(text)
        except ValueError:
            return {}
    if not isinstance(stored, dict):
        return {}
    found = {}
    for key, value in stored.items():
        found.update(_entry(json.dumps({str(key): value}, default=str)))
    return found


def contact_address(channel: Channel, address: str) -> tuple[str, str]:
    """(customer attribute, value to compare): e-mails are stored lower-case, phone numbers in E.164."""
    if channel is Channel.EMAIL:
        return "email", address.strip().lower()
    return "phone", address.strip()


def _contact(row: _AnyRow) -> CustomerContact:
    name = f"{row.first_name} {row.last_name}".strip()
    return CustomerContact(customer_id=row.id, name=name, email=row.email, phone=row.phone, timezone=None,
                           preferences=preferences_from_stored(row.communication_preferences))


class SqlCustomerDirectory:
    """`SqlCustomerDirectory(session_factory)`: each call reads in a short session of its own."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def contact(self, customer_id: int) -> CustomerContact | None:
        async with self._session_factory() as session:
            row = (await session.execute(select(*_COLUMNS).where(_C.id == customer_id))).one_or_none()
        return None if row is None else _contact(row)

    async def by_address(self, channel: Channel, address: str) -> CustomerContact | None:
        attribute, value = contact_address(channel, address)
        if not value:
            return None
        async with self._session_factory() as session:
            rows = (await session.execute(
                select(*_COLUMNS).where(_C[attribute] == value).order_by(_C.id).limit(2))).all()
        return _contact(rows[0]) if len(rows) == 1 else None
