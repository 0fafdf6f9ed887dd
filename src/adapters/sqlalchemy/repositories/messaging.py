"""The SQL repositories of messaging's templates, WhatsApp templates, consents, provider events and windows.

Outbound messages are in messaging_messages.py. Writes that can break a unique key run in a savepoint, so the
unit stays usable after the Conflict. Concurrency is left to PostgreSQL: `ProviderEventStore.record` is an
INSERT ... ON CONFLICT DO NOTHING (a concurrent duplicate waits for the first and then inserts nothing),
`mark_processed` a conditional UPDATE (one winner), `ConversationWindows.touch` an upsert keeping GREATEST.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, case, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_integrity_error
from adapters.sqlalchemy.listing import order_by
from adapters.sqlalchemy.tables.messaging import (
    customer_consents,
    provider_events,
    templates,
    whatsapp_templates,
    whatsapp_windows,
)
from application.messaging.ports import TemplateFilters
from application.ports.whatsapp import ApprovedTemplate
from application.shared.pagination import Page, PageRequest, SortKey
from domain.messaging.model import Channel, Consent, ConsentSource, ProviderEvent, Template, WhatsAppTemplate
from domain.shared.errors import Conflict, DomainError, NotFound, ValidationFailed

__all__ = [
    "SqlAlchemyConsentRepository", "SqlAlchemyConversationWindows", "SqlAlchemyProviderEventStore",
    "SqlAlchemyTemplateRepository", "SqlAlchemyWhatsAppTemplateRepository", "check_sort", "messaging_conflict",
    "paged",
]

Now = Callable[[], datetime]
AnyRow = Row[*tuple[Any, ...]]
_T = templates.c
_W = whatsapp_templates.c
_K = customer_consents.c
_P = provider_events.c
_WIN = whatsapp_windows.c
_DEFAULT_SORT = (SortKey("createdAt", descending=True),)
TEMPLATE_SORT: dict[str, ColumnElement[Any]] = {"createdAt": _T.created_at, "updatedAt": _T.updated_at,
                                                "name": _T.name}

# unique keys of messaging -> the Conflict both adapters raise
_CONFLICTS = {
    "uq_templates_type_name_language": ("a template with this name already exists for this channel and language",
                                        "name"),
    "uq_messages_provider_message_id": ("providerMessageId is already taken", "providerMessageId"),
    "uq_messages_created_by_idempotency_key": ("idempotencyKey is already taken", "idempotencyKey"),
    "fk_campaigns_template_id_templates": ("the template is used by a campaign", "templateId"),
}


def messaging_conflict(exc: IntegrityError) -> DomainError:
    """The domain error of a violated messaging constraint (others as `translate_integrity_error`)."""
    orig = getattr(exc.orig, "__cause__", None) or exc.orig
    found = _CONFLICTS.get(getattr(orig, "constraint_name", None) or "")
    if found is not None:
        return Conflict(found[0], field=found[1])
    return translate_integrity_error(exc)


async def write(session: AsyncSession, stmt: Any) -> AnyRow | None:
    """Run one write in a savepoint, so that a violated constraint leaves the unit usable."""
    try:
        async with session.begin_nested():
            row: AnyRow | None = (await session.execute(stmt)).one_or_none()
            return row
    except IntegrityError as exc:
        raise messaging_conflict(exc) from None


def check_sort(page: PageRequest, allowed: dict[str, ColumnElement[Any]]) -> None:
    for key in page.sort:
        if key.field not in allowed:
            raise ValidationFailed.on("sort", f"cannot sort by '{key.field}'; allowed: {', '.join(allowed)}")


async def paged(session: AsyncSession, base: Select[Any], where: Sequence[ColumnElement[bool]], page: PageRequest,
                sort: dict[str, ColumnElement[Any]], tiebreak: ColumnElement[Any]) -> tuple[builtins.list[AnyRow], int]:
    """One page of `base` (newest first, then id, unless sorted otherwise) and the count of all its rows."""
    check_sort(page, sort)
    froms = base.get_final_froms()
    total = (await session.execute(select(func.count()).select_from(*froms).where(*where))).scalar_one()
    stmt = (base.where(*where).order_by(*order_by(page.sort or _DEFAULT_SORT, sort, tiebreak))
            .limit(page.limit).offset(page.offset))
    return builtins.list((await session.execute(stmt)).all()), int(total)


def _template(row: AnyRow) -> Template:
    return Template(id=row.id, name=row.name, channel=Channel(row.template_type), content=row.content,
                    variables=builtins.list(row.variables or []), subject=row.subject, category=row.category,
                    language=row.language, is_active=row.is_active, dlt_template_id=row.dlt_template_id,
                    created_by=row.created_by, created_at=row.created_at, updated_at=row.updated_at)


def _template_values(template: Template) -> dict[str, Any]:
    return {"name": template.name, "template_type": Channel(template.channel).value, "content": template.content,
            "variables": builtins.list(template.variables), "subject": template.subject,
            "category": template.category, "language": template.language, "is_active": template.is_active,
            "dlt_template_id": template.dlt_template_id, "created_by": template.created_by}


class SqlAlchemyTemplateRepository:
    def __init__(self, session: AsyncSession, now: Now) -> None:
        self._session = session
        self._now = now

    async def add(self, template: Template) -> Template:
        now = self._now()
        row = await write(self._session, insert(templates).values(
            **_template_values(template), created_at=template.created_at or now, updated_at=now,
        ).returning(_T.id, _T.created_at, _T.updated_at))
        assert row is not None
        template.id, template.created_at, template.updated_at = row
        return template

    async def get(self, template_id: int) -> Template | None:
        row = (await self._session.execute(select(templates).where(_T.id == template_id))).one_or_none()
        return None if row is None else _template(row)

    async def find(self, name: str, channel: Channel, language: str = "en") -> Template | None:
        row = (await self._session.execute(select(templates).where(
            _T.template_type == Channel(channel).value, func.lower(_T.name) == func.lower(name),
            _T.language == language))).one_or_none()
        return None if row is None else _template(row)

    async def save(self, template: Template) -> None:
        row = await write(self._session, update(templates).where(_T.id == template.id).values(
            **_template_values(template), updated_at=self._now()).returning(_T.updated_at))
        if row is None:
            raise NotFound("template", template.id)
        template.updated_at = row.updated_at

    async def delete(self, template_id: int) -> bool:
        row = await write(self._session, delete(templates).where(_T.id == template_id).returning(_T.id))
        return row is not None

    async def list(self, filters: TemplateFilters, page: PageRequest) -> Page[Template]:
        where: builtins.list[ColumnElement[bool]] = []
        if filters.channels:
            where.append(_T.template_type.in_([Channel(c).value for c in filters.channels]))
        if filters.active is not None:
            where.append(_T.is_active.is_(filters.active))
        q = (filters.q or "").strip().lower()
        if q:
            where.append(func.lower(_T.name).contains(q, autoescape=True))
        rows, total = await paged(self._session, select(templates), where, page, TEMPLATE_SORT, _T.id)
        return Page(items=[_template(r) for r in rows], page=page.page, limit=page.limit, total=total)


def _whatsapp(row: AnyRow) -> WhatsAppTemplate:
    data = row.template_data
    components = data.get("components", []) if isinstance(data, dict) else data or []
    return WhatsAppTemplate(id=row.id, name=row.name, language=row.language, category=row.category,
                            status=row.status, components=builtins.list(components), provider_id=row.provider_id,
                            rejected_reason=row.rejected_reason, approved_at=row.approved_at,
                            updated_at=row.updated_at)


class SqlAlchemyWhatsAppTemplateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def sync(self, templates_now: Sequence[ApprovedTemplate], now: datetime) -> int:
        incoming = {(t.name, t.language): t for t in templates_now}  # the last of a repeated key wins
        changed = 0
        if incoming:
            stmt = insert(whatsapp_templates).values([
                {"name": t.name, "language": t.language, "category": t.category, "status": t.status,
                 "template_data": {"components": t.components}, "provider_id": t.provider_id,
                 "rejected_reason": t.rejected_reason, "approved_at": now if t.status == "approved" else None,
                 "created_at": now, "updated_at": now} for t in incoming.values()])
            new = stmt.excluded
            became_approved = (new.status == "approved") & (_W.status != "approved")
            upsert = stmt.on_conflict_do_update(
                index_elements=[_W.name, _W.language],
                set_={"category": new.category, "status": new.status, "template_data": new.template_data,
                      "provider_id": new.provider_id, "rejected_reason": new.rejected_reason,
                      "approved_at": case((became_approved, now), else_=_W.approved_at), "updated_at": now},
                where=or_(*(_W[c].is_distinct_from(new[c]) for c in (
                    "category", "status", "template_data", "provider_id", "rejected_reason"))),
            ).returning(_W.id)
            changed += len((await self._session.execute(upsert)).all())
        gone = update(whatsapp_templates).where(_W.status != "disabled").values(status="disabled", updated_at=now)
        if incoming:
            gone = gone.where(tuple_(_W.name, _W.language).not_in(builtins.list(incoming)))
        changed += len((await self._session.execute(gone.returning(_W.id))).all())
        return changed

    async def get(self, name: str, language: str) -> WhatsAppTemplate | None:
        row = (await self._session.execute(select(whatsapp_templates).where(
            _W.name == name, _W.language == language))).one_or_none()
        return None if row is None else _whatsapp(row)

    async def list(self) -> builtins.list[WhatsAppTemplate]:
        rows = await self._session.execute(select(whatsapp_templates).order_by(_W.name, _W.language))
        return [_whatsapp(r) for r in rows]


class SqlAlchemyConsentRepository:
    def __init__(self, session: AsyncSession, now: Now) -> None:
        self._session = session
        self._now = now

    async def get(self, channel: Channel, address: str) -> Consent | None:
        row = (await self._session.execute(select(customer_consents).where(
            _K.channel == Channel(channel).value, _K.address == address))).one_or_none()
        if row is None:
            return None
        return Consent(channel=Channel(row.channel), address=row.address, opted_in=row.opted_in,
                       source=ConsentSource(row.source), reason=row.reason, customer_id=row.customer_id,
                       updated_at=row.updated_at)

    async def put(self, consent: Consent) -> None:
        consent.updated_at = consent.updated_at or self._now()
        decision = {"opted_in": consent.opted_in, "source": ConsentSource(consent.source).value,
                    "reason": consent.reason, "customer_id": consent.customer_id, "updated_at": consent.updated_at}
        stmt = insert(customer_consents).values(channel=Channel(consent.channel).value, address=consent.address,
                                                **decision)
        await write(self._session, stmt.on_conflict_do_update(index_elements=[_K.channel, _K.address],
                                                              set_=decision).returning(_K.channel))


class SqlAlchemyProviderEventStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, event: ProviderEvent) -> ProviderEvent | None:
        stmt = (insert(provider_events).values(provider=event.provider, event_id=event.event_id, kind=event.kind,
                                               payload=event.payload, received_at=event.received_at)
                .on_conflict_do_nothing(index_elements=[_P.provider, _P.event_id]).returning(_P.id))
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else replace(event, id=row.id)

    async def get(self, event_id: int) -> ProviderEvent | None:
        row = (await self._session.execute(select(provider_events).where(_P.id == event_id))).one_or_none()
        if row is None:
            return None
        return ProviderEvent(provider=row.provider, event_id=row.event_id, kind=row.kind, payload=dict(row.payload),
                             received_at=row.received_at, id=row.id)

    async def mark_processed(self, event_id: int, now: datetime) -> bool:
        row = (await self._session.execute(update(provider_events).where(
            _P.id == event_id, _P.processed_at.is_(None)).values(processed_at=now).returning(_P.id))).one_or_none()
        return row is not None


class SqlAlchemyConversationWindows:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def touch(self, phone: str, at: datetime) -> None:
        stmt = insert(whatsapp_windows).values(phone=phone, last_inbound_at=at)
        await self._session.execute(stmt.on_conflict_do_update(
            index_elements=[_WIN.phone],
            set_={"last_inbound_at": func.greatest(_WIN.last_inbound_at, stmt.excluded.last_inbound_at)}))

    async def last_inbound(self, phone: str) -> datetime | None:
        found: datetime | None = (await self._session.execute(
            select(_WIN.last_inbound_at).where(_WIN.phone == phone))).scalar_one_or_none()
        return found
