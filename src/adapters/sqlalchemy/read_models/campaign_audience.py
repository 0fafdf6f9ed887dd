"""What the campaigns context reads of customers, policies, renewal cases, uploads and consents: its audiences.

A read model over other contexts' tables (policies, uploads, messaging's `customer_consents`), set-based:
- the candidates are the policies with an open renewal case (`OPEN_CASE_STATUSES`), one row per policy (its
  latest qualifying open case: DISTINCT ON policy, newest term first). `{"kind": "upload", "upload_id": n}`: the
  case comes from one of that upload's batches; `{"kind": "all"}`: the policy is active; `{"kind": "segment",
  "filter": f}`: the filter (a parsed tree of domain/campaigns/segments.py, or its JSON form parsed with the
  clock's today; or `"segment_id": n` for a saved segment) compiled to a Core condition with bound parameters.
- the channel picks the address (email -> customers.email, sms/whatsapp -> customers.phone; blank = none); a
  `customer_consents` row for (channel, address) with opted_in false excludes it, and for WhatsApp so does the
  absence of an explicit opt-in (the project's decision). A candidate without an address is `no_address`, never
  also `opted_out`.
- `values` are built in SQL (jsonb_build_object), all strings: numbers as numeric::text ("12500.00"), dates
  YYYY-MM-DD, branch = the policy's branch code or "".
`materialise` is ONE `INSERT INTO campaign_recipients ... SELECT ... ON CONFLICT DO NOTHING` plus one count query,
committed in its own transaction (re-running it inserts nothing twice).
"""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, and_, case, cast, false, func, literal, or_, select, true
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.read_models.segment_filter import compile_filter
from adapters.sqlalchemy.tables.campaigns import campaign_recipients, segments
from adapters.sqlalchemy.tables.identity import branches
from adapters.sqlalchemy.tables.messaging import customer_consents
from adapters.sqlalchemy.tables.policies import customers, policies, renewal_cases
from adapters.sqlalchemy.tables.uploads import upload_batches
from application.campaigns.ports import AudienceCandidate
from domain.campaigns.segments import And, Condition, Filter, Not, Or, parse_filter
from domain.shared.clock import Clock
from domain.shared.errors import ValidationFailed

__all__ = ["OPEN_CASE_STATUSES", "VALUE_NAMES", "SqlAudienceSource", "segment_columns"]

# a renewal case still being worked on (the policies context's CaseStatus values before a decision)
OPEN_CASE_STATUSES = ("new", "contacted", "in_progress", "payment_pending")
# the template variables every recipient carries, as strings
VALUE_NAMES = ("name", "customer_name", "first_name", "policy_number", "policy_type", "renewal_date", "premium",
               "renewal_amount", "branch", "renewal_link", "expiry_date")
CHANNELS = ("email", "sms", "whatsapp")
_CU, _P, _RC, _B, _K = customers.c, policies.c, renewal_cases.c, branches.c, customer_consents.c
_TIMESTAMPS = frozenset({"customer.created_at", "case.last_contact_date"})


def segment_columns() -> dict[str, ColumnElement[Any]]:
    """The column each segment field reads, over customers, policies, renewal_cases and branches."""
    return {
        "customer.branch": _B.code, "customer.city": _CU.address["city"].astext,
        "customer.state": _CU.address["state"].astext, "customer.created_at": _CU.created_at,
        "policy.policy_type": _P.policy_type, "policy.status": _P.status, "policy.premium_amount": _P.premium_amount,
        "policy.renewal_date": _P.renewal_date, "policy.end_date": _P.end_date, "case.status": _RC.status,
        "case.priority": _RC.priority, "case.assigned_to": _RC.assigned_to,
        "case.last_contact_date": _RC.last_contact_date, "case.communication_attempts": _RC.communication_attempts}


def _values(renewal_link_base: str) -> ColumnElement[Any]:
    """The values as one JSON object; `renewal_link` is the renewal page of the policy (its number appended)."""
    full_name = func.btrim(_CU.first_name + " " + _CU.last_name)
    pairs: dict[str, ColumnElement[Any]] = {
        "name": full_name, "customer_name": full_name, "first_name": _CU.first_name,
        "renewal_link": literal(renewal_link_base, Text) + _P.policy_number,
        "expiry_date": func.to_char(_P.end_date, "YYYY-MM-DD"),
        "policy_number": _P.policy_number, "policy_type": _P.policy_type,
        "renewal_date": func.to_char(_P.renewal_date, "YYYY-MM-DD"), "premium": cast(_P.premium_amount, Text),
        "renewal_amount": cast(_RC.renewal_amount, Text), "branch": func.coalesce(_B.code, "")}
    return func.jsonb_build_object(*(x for name in VALUE_NAMES for x in (literal(name, Text), pairs[name])))


class SqlAudienceSource:
    """`SqlAudienceSource(session_factory, clock, business_timezone, renewal_link_base=...)`; each call has its own
    session. `renewal_link_base` + the policy number is each recipient's `renewal_link` (the payments issue will put
    a payment link there)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], clock: Clock,
                 business_timezone: str = "Asia/Kolkata", *, renewal_link_base: str = "") -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._timezone = business_timezone
        self._renewal_link_base = renewal_link_base

    async def _tree(self, session: AsyncSession, audience: dict[str, Any]) -> Filter:
        raw = audience.get("filter")
        if raw is None and audience.get("segment_id") is not None:
            raw = (await session.execute(
                select(segments.c.filter).where(segments.c.id == int(audience["segment_id"])))).scalar()
        if isinstance(raw, And | Or | Not | Condition):
            return raw
        if raw is None:
            raise ValidationFailed.on("audience.filter", "is required for a segment audience")
        return parse_filter(raw, self._clock.today())

    async def _where(self, session: AsyncSession, audience: dict[str, Any]) -> ColumnElement[bool]:
        kind = audience.get("kind")
        if kind == "all":
            return _P.status == "active"
        if kind == "upload":
            upload_id = audience.get("upload_id")
            if not isinstance(upload_id, int) or isinstance(upload_id, bool):
                raise ValidationFailed.on("audience.upload_id", "is required for an upload audience")
            return _RC.batch_id.in_(select(upload_batches.c.id).where(upload_batches.c.upload_id == upload_id))
        if kind == "segment":
            return compile_filter(await self._tree(session, audience), segment_columns(),
                                  business_timezone=self._timezone, timestamps=_TIMESTAMPS)
        raise ValidationFailed.on("audience.kind", "must be one of upload, segment, all")

    async def _candidates(self, session: AsyncSession, channel: str, audience: dict[str, Any]) -> Any:
        """A subquery: policy_id, customer_id, address, opted_out, values, one row per policy."""
        if channel not in CHANNELS:
            raise ValidationFailed.on("channel", f"must be one of {', '.join(CHANNELS)}")
        address = func.nullif(func.btrim(_CU.email if channel == "email" else _CU.phone), "")
        key = func.lower(address) if channel == "email" else address
        refused = _K.opted_in.is_not(true()) if channel == "whatsapp" else _K.opted_in.is_(false())
        opted_out = and_(address.is_not(None), refused)
        stmt = (select(_P.id.label("policy_id"), _CU.id.label("customer_id"), address.label("address"),
                       opted_out.label("opted_out"), _values(self._renewal_link_base).label("values"))
                .select_from(renewal_cases.join(policies, _P.id == _RC.policy_id)
                             .join(customers, _CU.id == _P.customer_id)
                             .outerjoin(branches, _B.id == _P.branch_id)
                             .outerjoin(customer_consents, and_(_K.channel == channel, _K.address == key)))
                .where(_RC.status.in_(OPEN_CASE_STATUSES), await self._where(session, audience))
                .ext(distinct_on(_P.id)).order_by(_P.id, _RC.term_end_date.desc(), _RC.id.desc()))
        return stmt.subquery("candidates")

    @staticmethod
    def _count_query(found: Any) -> Select[int, int, int]:
        missing = found.c.address.is_(None)
        return select(
            func.count().filter(~missing & ~found.c.opted_out).label("eligible"),
            func.count().filter(~missing & found.c.opted_out).label("opted_out"),
            func.count().filter(missing).label("no_address"))

    async def count(self, channel: str, audience: dict[str, Any]) -> dict[str, int]:
        async with self._session_factory() as session:
            found = await self._candidates(session, channel, audience)
            row = (await session.execute(self._count_query(found).select_from(found))).one()
        return {key: int(value) for key, value in row._mapping.items()}

    async def sample(self, channel: str, audience: dict[str, Any], limit: int) -> builtins.list[AudienceCandidate]:
        """Eligible candidates first, then the excluded ones (flagged), each in policy order."""
        async with self._session_factory() as session:
            found = await self._candidates(session, channel, audience)
            excluded = or_(found.c.address.is_(None), found.c.opted_out)
            stmt = select(found).order_by(case((excluded, 1), else_=0), found.c.policy_id).limit(limit)
            rows = (await session.execute(stmt)).all()
        return [AudienceCandidate(customer_id=r.customer_id, policy_id=r.policy_id, address=r.address,
                                  values=dict(r.values), opted_out=bool(r.opted_out)) for r in rows]

    async def materialise(self, campaign_id: int, channel: str, audience: dict[str, Any]) -> dict[str, int]:
        now = self._clock.now()
        async with self._session_factory() as session, session.begin():
            found = await self._candidates(session, channel, audience)
            eligible = (select(literal(campaign_id), found.c.customer_id, found.c.policy_id, literal(channel, Text),
                               literal("pending", Text), found.c.address, found.c["values"], literal(now),
                               literal(now))
                        .where(found.c.address.is_not(None), ~found.c.opted_out).order_by(found.c.policy_id))
            stmt = (insert(campaign_recipients)
                    .from_select(["campaign_id", "customer_id", "policy_id", "channel", "status", "address", "values",
                                  "created_at", "updated_at"], eligible)
                    .on_conflict_do_nothing(constraint="uq_campaign_recipients_target"))
            inserted = int((await session.execute(stmt)).rowcount)  # type: ignore[attr-defined]
            counts = (await session.execute(self._count_query(found).select_from(found))).one()
        return {"inserted": inserted, "opted_out": int(counts.opted_out), "no_address": int(counts.no_address)}
