"""The SQL tracking store: every open and click as received, and a campaign's summary in one grouped query.

`record` copies the recipient's campaign onto the hit (INSERT ... SELECT from its recipient row; NotFound when
there is none); an `ip` that is not an address is stored as NULL. `summary` is one query with GROUPING SETS
((kind), (kind, variant), (kind, link), (kind, machine_reason)); its shape is the memory twin's
(adapters/memory/campaigns_tracking.py).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import ColumnElement, Integer, func, insert, literal, select, tuple_
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.tables.campaigns import campaign_recipients, tracking_hits
from application.campaigns.ports import TrackingHit
from domain.shared.errors import NotFound

__all__ = ["KINDS", "SqlAlchemyTrackingStore"]

KINDS = ("open", "click")
_H = tracking_hits.c
_R = campaign_recipients.c
# grouping(variant, link, machine_reason): a bit is set for each column the set does not group by
_BY_KIND, _BY_VARIANT, _BY_LINK, _BY_REASON = 0b111, 0b011, 0b101, 0b110


def _ip(raw: str | None) -> str | None:
    try:
        return None if raw is None else str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None


def _empty() -> dict[str, int]:
    return {"raw": 0, "human": 0, "unique_raw": 0, "unique_human": 0}


def _figures() -> list[ColumnElement[Any]]:
    human = _H.machine_reason.is_(None)
    return [func.count().label("raw"), func.count().filter(human).label("human"),
            func.count(_H.recipient_id.distinct()).label("unique_raw"),
            func.count(_H.recipient_id.distinct()).filter(human).label("unique_human")]


class SqlAlchemyTrackingStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, hit: TrackingHit) -> None:
        source = select(
            _R.id, _R.campaign_id, literal(hit.kind), literal(hit.at), literal(hit.user_agent),
            literal(_ip(hit.ip), INET), literal(hit.link), literal(hit.machine_reason),
        ).where(_R.id == hit.recipient_id)
        stmt = insert(tracking_hits).from_select(
            ["recipient_id", "campaign_id", "kind", "at", "user_agent", "ip", "link", "machine_reason"], source,
        ).returning(_H.id)
        if (await self._session.execute(stmt)).one_or_none() is None:
            raise NotFound("campaign recipient", hit.recipient_id)

    async def summary(self, campaign_id: int) -> dict[str, Any]:
        sets = func.grouping(_R.variant, _H.link, _H.machine_reason).cast(Integer).label("grouped")
        stmt = (select(sets, _H.kind, _R.variant, _H.link, _H.machine_reason, *_figures())
                .join_from(tracking_hits, campaign_recipients, _R.id == _H.recipient_id)
                .where(_H.campaign_id == campaign_id)
                .group_by(func.grouping_sets(tuple_(_H.kind), tuple_(_H.kind, _R.variant), tuple_(_H.kind, _H.link),
                                             tuple_(_H.kind, _H.machine_reason))))
        summary: dict[str, Any] = {kind: _empty() for kind in KINDS}
        variants: dict[str, dict[str, dict[str, int]]] = {}
        links: dict[str, dict[str, int]] = {}
        reasons: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
        for row in (await self._session.execute(stmt)).all():
            figures = {"raw": row.raw, "human": row.human, "unique_raw": row.unique_raw,
                       "unique_human": row.unique_human}
            if row.grouped == _BY_KIND:
                summary[row.kind] = figures
            elif row.grouped == _BY_VARIANT and row.variant is not None:
                variants.setdefault(row.variant, {kind: _empty() for kind in KINDS})[row.kind] = figures
            elif row.grouped == _BY_LINK and row.link is not None and row.kind == "click":
                links[row.link] = figures
            elif row.grouped == _BY_REASON and row.machine_reason is not None:
                reasons.setdefault(row.kind, {})[row.machine_reason] = row.raw
        summary["by_variant"] = dict(sorted(variants.items()))
        summary["by_link"] = dict(sorted(links.items()))
        summary["machine_reasons"] = reasons
        return summary
