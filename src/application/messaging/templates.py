"""Use cases on message templates: list, read, create, change, delete, preview, and the starter library.

Content limits: 50,000 characters for email; 1,600 for SMS (the longest body Twilio accepts,
https://www.twilio.com/docs/messaging/api/message-resource); 4,096 for a WhatsApp text message (the Cloud API's
`text.body` limit, https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#text-object).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from application.messaging.ports import MessagingUnitOfWork, TemplateFilters
from application.messaging.starter_templates import STARTER_TEMPLATES
from application.messaging.template_views import (
    NewTemplate,
    RenderedPreview,
    TemplateCreated,
    TemplatePatch,
    TemplateView,
    public_template_id,
)
from application.shared.commands import set_fields
from application.shared.pagination import Page, PageRequest
from application.shared.validation import FieldCollector
from domain.messaging.model import Channel, Template
from domain.messaging.sms_encoding import sms_encoding
from domain.messaging.templates import render_email, render_text, undeclared_variables, variables_in
from domain.shared.clock import Clock
from domain.shared.errors import Conflict, FieldError, NotFound, ValidationFailed

__all__ = ["CONTENT_LIMITS", "TemplateService", "sample_values"]

CONTENT_LIMITS = {Channel.EMAIL: 50_000, Channel.SMS: 1_600, Channel.WHATSAPP: 4_096}
NAME_MAX = 255
SUBJECT_MAX = 500
CATEGORY_MAX = 50
DLT_MAX = 30
SAMPLE_DAYS_AHEAD = 15
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})?")

_SAMPLES = {
    "name": "Asha Rao", "customer_name": "Asha Rao", "policy_number": "POL-2026-000123",
    "premium": "12,500.00", "amount": "12,500.00", "renewal_amount": "12,500.00",
    "payment_link": "https://pay.example.com/r/abc123", "renewal_link": "https://pay.example.com/r/abc123",
    "days": "15", "days_left": "15", "agent_name": "Ravi Kumar", "receipt_number": "RCPT-2026-004567",
}
_SAMPLE_DATES_AHEAD = ("renewal_date", "expiry_date", "due_date")
_SAMPLE_DATES_TODAY = ("payment_date",)


def sample_values(names: Sequence[str], today: date) -> dict[str, str]:
    """A realistic sample for each variable name (`<name>` for one the table does not know)."""
    ahead = (today + timedelta(days=SAMPLE_DAYS_AHEAD)).isoformat()
    values: dict[str, str] = {}
    for name in names:
        if name in _SAMPLE_DATES_AHEAD:
            values[name] = ahead
        elif name in _SAMPLE_DATES_TODAY:
            values[name] = today.isoformat()
        else:
            values[name] = _SAMPLES.get(name, f"<{name}>")
    return values


class _NoPhoneNumbers:
    """Templates have no phone fields; FieldCollector asks for a normaliser all the same."""

    def to_e164(self, raw: str, *, field: str = "phone") -> str:
        raise ValidationFailed.on(field, "is not expected here")


def _validated(draft: dict[str, Any], *, derive_variables: bool) -> dict[str, Any]:
    """Check a whole template's fields at once; returns them normalised or raises one ValidationFailed."""
    fields = FieldCollector(_NoPhoneNumbers())
    fields.name("name", draft["name"], max_length=NAME_MAX)
    fields.enum("type", draft["type"], Channel)
    errors = fields.errors
    channel: Channel | None = fields.values.get("type")
    subject: str | None = None
    if channel is Channel.EMAIL:
        subject = " ".join((draft["subject"] or "").split())
        if not subject:
            errors.append(FieldError("subject", "is required for an email template"))
        elif len(subject) > SUBJECT_MAX:
            errors.append(FieldError("subject", f"must be at most {SUBJECT_MAX} characters"))
    content: str = draft["content"]
    limit = CONTENT_LIMITS[channel or Channel.EMAIL]
    if not content.strip():
        errors.append(FieldError("content", "must not be blank"))
    elif len(content) > limit:
        suffix = f" for {channel} templates" if channel else ""
        errors.append(FieldError("content", f"must be at most {limit:,} characters{suffix}"))
    texts = (subject or "", content)
    declared = _declared_variables(draft["variables"], texts, derive=derive_variables, errors=errors)
    category = (draft["category"] or "").strip().lower() or None
    if category is not None and len(category) > CATEGORY_MAX:
        errors.append(FieldError("category", f"must be at most {CATEGORY_MAX} characters"))
    language = (draft["language"] or "").strip()
    if not _LANGUAGE.fullmatch(language):
        errors.append(FieldError("language", "must be a language code such as en, hi or en_US"))
    dlt = (draft["dlt_template_id"] or "").strip() or None
    if dlt is not None and (not dlt.isascii() or not dlt.isdigit() or len(dlt) > DLT_MAX):
        errors.append(FieldError("dltTemplateId", f"must be the DLT template id: digits only, at most {DLT_MAX}"))
    fields.raise_if_invalid()
    assert channel is not None
    return {"name": fields.values["name"], "channel": channel, "subject": subject, "content": content,
            "variables": declared, "category": category, "language": language,
            "dlt_template_id": dlt if channel is Channel.SMS else None, "is_active": draft["is_active"]}


def _declared_variables(given: list[str] | None, texts: Sequence[str], *, derive: bool,
                        errors: list[FieldError]) -> list[str]:
    if given is None or derive:
        return variables_in("\n".join(texts))
    declared = list(dict.fromkeys(given))
    invalid = [name for name in declared if not (name.isascii() and _IDENTIFIER.fullmatch(name))]
    if invalid:
        errors.append(FieldError("variables", "must be names of letters, digits and underscores, not starting "
                                              f"with a digit: {', '.join(invalid)}"))
    undeclared = undeclared_variables(*texts, declared=declared)
    if undeclared:
        errors.append(FieldError("variables", f"used in the template but not declared: {', '.join(undeclared)}"))
    return declared


def _draft_of(template: Template) -> dict[str, Any]:
    return {"name": template.name, "type": str(template.channel), "subject": template.subject,
            "content": template.content, "variables": template.variables, "category": template.category,
            "language": template.language, "dlt_template_id": template.dlt_template_id,
            "is_active": template.is_active}


class TemplateService:
    def __init__(self, uow: Callable[[], MessagingUnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def list(self, filters: TemplateFilters, page: PageRequest) -> Page[TemplateView]:
        async with self._uow() as uow:
            found = await uow.templates.list(filters, page)
        return Page(items=[TemplateView.of(t) for t in found.items], page=found.page, limit=found.limit,
                    total=found.total, total_is_estimate=found.total_is_estimate)

    async def get(self, template_id: int) -> TemplateView:
        async with self._uow() as uow:
            return TemplateView.of(await self._existing(uow, template_id))

    async def create(self, cmd: NewTemplate, created_by: int | None = None) -> TemplateCreated:
        """Validate every field at once and store the template; 409 when the name is taken on its channel."""
        draft = {"name": cmd.name, "type": cmd.type, "subject": cmd.subject, "content": cmd.content,
                 "variables": cmd.variables, "category": cmd.category, "language": cmd.language,
                 "dlt_template_id": cmd.dlt_template_id, "is_active": cmd.is_active}
        values = _validated(draft, derive_variables=False)
        now = self._clock.now()
        async with self._uow() as uow:
            await self._ensure_name_free(uow, values, None)
            template = await uow.templates.add(Template(id=None, created_by=created_by, created_at=now,
                                                        updated_at=now, **values))
            await uow.commit()
        assert template.id is not None
        return TemplateCreated(template_id=public_template_id(template.id), message="Template created successfully",
                               template=TemplateView.of(template))

    async def update(self, template_id: int, patch: TemplatePatch) -> TemplateView:
        """Change the given fields; the template is checked again as a whole."""
        given = set_fields(patch)
        async with self._uow() as uow:
            template = await self._existing(uow, template_id)
            draft = {**_draft_of(template), **given}
            texts_changed = "subject" in given or "content" in given
            values = _validated(draft, derive_variables=texts_changed and "variables" not in given)
            await self._ensure_name_free(uow, values, template_id)
            for key, value in values.items():
                setattr(template, key, value)
            template.updated_at = self._clock.now()
            await uow.templates.save(template)
            await uow.commit()
        return TemplateView.of(template)

    async def delete(self, template_id: int) -> None:
        """Remove it; messages already sent keep their rendered copy."""
        async with self._uow() as uow:
            if not await uow.templates.delete(template_id):
                raise NotFound("template", public_template_id(template_id))
            await uow.commit()

    async def preview(self, template_id: int, data: dict[str, str] | None) -> RenderedPreview:
        """Render with the given values, filling any other variable with a realistic sample."""
        async with self._uow() as uow:
            template = await self._existing(uow, template_id)
        subject = template.subject or ""
        used = variables_in(f"{subject}\n{template.content}")
        given = data or {}
        missing = [name for name in used if name not in given]
        values = {**sample_values(missing, self._clock.today()), **{n: given[n] for n in used if n in given}}
        values = {name: values[name] for name in used}
        if template.channel is Channel.EMAIL:
            email = render_email(subject, template.content, values)
            return RenderedPreview(type=str(template.channel), values=values, missing=missing,
                                   subject=email.subject, html=email.html, text=email.text)
        body = render_text(template.content, values)
        if template.channel is Channel.SMS:
            encoding = sms_encoding(body)
            return RenderedPreview(type=str(template.channel), values=values, missing=missing, body=body,
                                   encoding=encoding.encoding, segments=encoding.segments,
                                   characters=encoding.characters)
        return RenderedPreview(type=str(template.channel), values=values, missing=missing, body=body)

    async def seed_starter_library(self) -> int:
        """Add the starter templates missing by name, channel and language; returns how many were added."""
        added = 0
        now = self._clock.now()
        async with self._uow() as uow:
            for entry in STARTER_TEMPLATES:
                if await uow.templates.find(entry.name, entry.channel, entry.language) is not None:
                    continue
                await uow.templates.add(Template(
                    id=None, name=entry.name, channel=entry.channel, subject=entry.subject, content=entry.content,
                    variables=variables_in(f"{entry.subject or ''}\n{entry.content}"), category=entry.category,
                    language=entry.language, created_at=now, updated_at=now))
                added += 1
            await uow.commit()
        return added

    @staticmethod
    async def _existing(uow: MessagingUnitOfWork, template_id: int) -> Template:
        template = await uow.templates.get(template_id)
        if template is None:
            raise NotFound("template", public_template_id(template_id))
        return template

    @staticmethod
    async def _ensure_name_free(uow: MessagingUnitOfWork, values: dict[str, Any], template_id: int | None) -> None:
        other = await uow.templates.find(values["name"], values["channel"], values["language"])
        if other is not None and other.id != template_id:
            raise Conflict(f"a template named '{values['name']}' already exists for {values['channel']} in "
                           f"language '{values['language']}'", field="name")
