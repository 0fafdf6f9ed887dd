"""A read model over the messaging context's `customer_consents`, for campaigns: who opted out since launch.

One query per batch: `SELECT address FROM customer_consents WHERE channel = :channel AND NOT opted_in AND
address = ANY(:keys)` on the table's primary key. Consents keep e-mail addresses in lower case, so e-mail
addresses are looked up in lower case and answered as the caller gave them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Text, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.tables.messaging import customer_consents

__all__ = ["SqlOptOuts", "consent_keys"]

_K = customer_consents.c


def consent_keys(channel: str, addresses: Sequence[str]) -> dict[str, list[str]]:
    """The key `customer_consents` stores for each address (e-mail in lower case) -> the addresses given."""
    keys: dict[str, list[str]] = {}
    for address in addresses:
        key = address.strip().lower() if channel == "email" else address.strip()
        keys.setdefault(key, []).append(address)
    return keys


class SqlOptOuts:
    """Implements `application.campaigns.ports.OptOuts`."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def opted_out(self, channel: str, addresses: Sequence[str]) -> set[str]:
        keys = consent_keys(channel, addresses)
        if not keys:
            return set()
        query = select(_K.address).where(_K.channel == channel, _K.opted_in.is_(False),
                                         _K.address == any_(bindparam("keys", list(keys), type_=ARRAY(Text))))
        async with self._session_factory() as session:
            found = (await session.execute(query)).scalars().all()
        return {address for key in found for address in keys.get(key, ())}
