"""WhatsApp's own rules for a send: approved templates, their parameters, and the 24-hour window.

Business-initiated messages must use an approved template; free text and media go only while the
customer-service window is open, 24 hours from the customer's last message
(https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates,
https://developers.facebook.com/docs/whatsapp/pricing#customer-service-windows). A template's `components` are
kept as Meta lists them: the BODY's `text` holds `{{1}}`, `{{2}}` ... (or named `{{first_name}}`) placeholders,
a HEADER's `format` says whether it takes an IMAGE or DOCUMENT. Meta refuses parameters with new lines, tabs or
more than four consecutive spaces, so they are refused here, before anything is queued.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from application.messaging.errors import UnknownTemplate, WhatsAppTemplateNotApproved, WhatsAppWindowClosed
from application.messaging.message_views import ParameterValue, SendWhatsApp, parameter_text
from application.messaging.ports import MessagingUnitOfWork
from domain.messaging.model import Channel, Message, Template, WhatsAppTemplate
from domain.messaging.templates import render_text
from domain.shared.ids import parse_public_id

if TYPE_CHECKING:
    from application.messaging.sending import Draft, FieldProblems

__all__ = ["WhatsAppComposer", "body_placeholders"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_BAD_PARAMETER = re.compile(r"[\n\r\t]| {5,}")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_MEDIA_FORMATS = frozenset({"image", "document"})
MAX_TEXT, MAX_CAPTION = 4096, 1024
_PREFERRED_LANGUAGES = ("en", "en_US", "en_GB")


def _component(components: Sequence[Mapping[str, object]], kind: str) -> Mapping[str, object] | None:
    return next((c for c in components if str(c.get("type", "")).upper() == kind), None)


def body_placeholders(template: WhatsAppTemplate) -> list[str]:
    """The BODY's placeholders: numbered ones in number order, named ones in order of appearance."""
    body = _component(template.components, "BODY")
    names = list(dict.fromkeys(_PLACEHOLDER.findall(str(body.get("text", ""))))) if body else []
    return sorted(names, key=int) if all(n.isdigit() for n in names) else names


def _header_media(template: WhatsAppTemplate) -> str | None:
    """`image` or `document` when the template's header takes that media, else None."""
    header = _component(template.components, "HEADER")
    media = str(header.get("format", "")).lower() if header else ""
    return media if media in _MEDIA_FORMATS else None


def _filled_body(template: WhatsAppTemplate, placeholders: list[str], values: list[str]) -> str:
    """The body text as the recipient will read it (kept on the message record)."""
    body = _component(template.components, "BODY")
    text = str(body.get("text", "")) if body else ""
    if not text:
        return " | ".join([template.name, *values])
    by_name = dict(zip(placeholders, values, strict=False))
    return _PLACEHOLDER.sub(lambda m: by_name.get(m.group(1), m.group(0)), text)


class WhatsAppComposer:
    def __init__(self, window_hours: int) -> None:
        self._window = timedelta(hours=window_hours)
        self._hours = window_hours

    async def compose(self, uow: MessagingUnitOfWork, cmd: SendWhatsApp, draft: Draft) -> Message | None:
        problems = draft.problems
        if cmd.template_id is None and cmd.message is None and cmd.media_url is None:
            problems.add("templateId", "give templateId (an approved template), message (free text) or mediaUrl")
            return None
        if cmd.template_id is not None and cmd.message is not None:
            problems.add("message", "give either templateId or message, not both")
        if cmd.message is not None and cmd.media_url is not None:
            problems.add("mediaUrl", "a media message takes a caption, not a message")
        media = self._media(cmd, problems)
        if cmd.template_id is not None:
            return await self._template_message(uow, cmd, draft, media)
        await self._require_open_window(uow, draft)
        if cmd.message is not None:
            body = problems.render(lambda: render_text(cmd.message or "", draft.values))
            if body is not None and not body.strip():
                problems.add("message", "must not be blank")
            elif body is not None and len(body) > MAX_TEXT:
                problems.add("message", f"must be at most {MAX_TEXT} characters")
        else:
            body = cmd.caption or ""
            if not media.get("media_type"):
                problems.add("mediaType", "is required with mediaUrl: image or document")
        if isinstance(cmd.parameters, list):
            problems.add("parameters", "free text takes named parameters (an object), not a list")
        return Message(id=None, channel=Channel.WHATSAPP, recipient=draft.address or "", body=body or "",
                       headers=media)

    def _media(self, cmd: SendWhatsApp, problems: FieldProblems) -> dict[str, str]:
        if cmd.media_url is None:
            if cmd.media_type or cmd.filename or cmd.caption:
                problems.add("mediaUrl", "is required with mediaType, filename or caption")
            return {}
        if not _URL.fullmatch(cmd.media_url.strip()):
            problems.add("mediaUrl", "must be an http(s) URL")
        if cmd.caption is not None and len(cmd.caption) > MAX_CAPTION:
            problems.add("caption", f"must be at most {MAX_CAPTION} characters")
        media = {"media_link": cmd.media_url.strip(), "media_type": cmd.media_type or ""}
        if cmd.filename:
            media["filename"] = cmd.filename
        return media

    async def _require_open_window(self, uow: MessagingUnitOfWork, draft: Draft) -> None:
        """Free text and media need a window still open when the message may go (after quiet hours)."""
        if draft.address is None:
            return
        last = await uow.windows.last_inbound(draft.address)
        if last is None or draft.deliver_at >= last + self._window:
            draft.problems.refuse(WhatsAppWindowClosed.for_number(draft.address, self._hours))

    async def _template_message(self, uow: MessagingUnitOfWork, cmd: SendWhatsApp, draft: Draft,
                                media: dict[str, str]) -> Message | None:
        problems = draft.problems
        ours, name, language = await self._names(uow, cmd, problems)
        if name is None:
            return None
        template = await self._find(uow, name, language)
        if template is None:
            shown = f"{name} ({language})" if language else name
            problems.refuse(UnknownTemplate.named(shown, " among the WhatsApp templates synchronised from Meta"))
            return None
        if not template.approved:
            problems.refuse(WhatsAppTemplateNotApproved.named(template.name, template.language, template.status))
        placeholders = body_placeholders(template)
        values = self._ordered(cmd.parameters, placeholders, ours.variables if ours else [], problems)
        if template.components and len(values) != len(placeholders):
            wanted = ", ".join("{{" + p + "}}" for p in placeholders) or "none"
            problems.add("parameters", f"the template's body takes {len(placeholders)} parameters ({wanted}); "
                                       f"{len(values)} given")
        header = _header_media(template)
        if header is not None and not media:
            problems.add("mediaUrl", f"the template has a{'n' if header == 'image' else ''} {header} header: "
                                     "give its mediaUrl")
        elif media and template.components and header is None:
            problems.add("mediaUrl", "the template has no image or document header")
        elif media and header is not None:
            if media["media_type"] and media["media_type"] != header:
                problems.add("mediaType", f"the template's header takes a {header}")
            media["media_type"] = header
        return Message(id=None, channel=Channel.WHATSAPP, recipient=draft.address or "",
                       body=_filled_body(template, placeholders, values), template_id=ours.id if ours else None,
                       whatsapp_template=template.name, whatsapp_language=template.language, parameters=values,
                       headers=media)

    async def _names(self, uow: MessagingUnitOfWork, cmd: SendWhatsApp,
                     problems: FieldProblems) -> tuple[Template | None, str | None, str | None]:
        """(our template when `templateId` is `template-N`, the WhatsApp template's name, the language asked)."""
        reference = cmd.template_id
        assert reference is not None
        number = parse_public_id(reference, "template")
        if number is None:
            name = str(reference).strip()
            if not name:
                problems.add("templateId", "must not be blank")
                return None, None, None
            return None, name, cmd.language
        ours = await uow.templates.get(number)
        if ours is None or ours.channel is not Channel.WHATSAPP:
            problems.refuse(UnknownTemplate.named(f"template-{number}", " for whatsapp"))
            return None, None, None
        if not ours.is_active:
            problems.add("templateId", f"template-{number} is inactive")
        return ours, ours.name, cmd.language or ours.language

    async def _find(self, uow: MessagingUnitOfWork, name: str, language: str | None) -> WhatsAppTemplate | None:
        """The template in `language`, or without one the only language it exists in (English preferred)."""
        if language:
            return await uow.whatsapp_templates.get(name, language)
        found = [t for t in await uow.whatsapp_templates.list() if t.name == name]
        for preferred in _PREFERRED_LANGUAGES:
            match = next((t for t in found if t.language == preferred), None)
            if match is not None:
                return match
        approved = [t for t in found if t.approved]
        return next(iter(approved or found), None)

    def _ordered(self, given: Mapping[str, ParameterValue] | list[ParameterValue] | None, placeholders: list[str],
                 declared: Sequence[str], problems: FieldProblems) -> list[str]:
        """The body parameters in placeholder order: a list as is; an object by the placeholders' names (or
        numbers), else by our template's declared variables, else in the object's own order."""
        if given is None:
            values: list[str] = []
        elif isinstance(given, list):
            values = [parameter_text(v) for v in given]
        elif placeholders and all(p in given for p in placeholders):
            values = [parameter_text(given[p]) for p in placeholders]
        elif declared and all(d in given for d in declared):
            values = [parameter_text(given[d]) for d in declared]
        else:
            values = [parameter_text(v) for v in given.values()]
        if any(not v.strip() or _BAD_PARAMETER.search(v) for v in values):
            problems.add("parameters", "WhatsApp parameters must not be empty nor hold new lines, tabs or more than "
                                       "4 consecutive spaces")
        return values
