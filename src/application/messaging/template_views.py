"""Commands and answers of the template use cases; they double as the HTTP bodies (camelCase)."""

from __future__ import annotations

from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType

from domain.messaging.model import Template

__all__ = [
    "NewTemplate",
    "RenderedPreview",
    "TemplateCreated",
    "TemplateDeleted",
    "TemplatePatch",
    "TemplatePreview",
    "TemplateView",
    "public_template_id",
]

PreviewValue = str | int | float


def public_template_id(template_id: int) -> str:
    return f"template-{template_id}"


class NewTemplate(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Create a template. `variables` defaults to the variables the subject and content use; `subject` is
    required for email and ignored elsewhere, `dltTemplateId` (India DLT) is kept for SMS only."""

    name: str
    type: str  # email | sms | whatsapp
    content: str
    subject: str | None = None
    variables: list[str] | None = None
    category: str | None = None
    language: str = "en"
    dlt_template_id: str | None = None
    is_active: bool = True


class TemplatePatch(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Change some fields of a template; absent fields stay as they are. When the subject or content change
    and `variables` is absent, the variables become the ones the new texts use (as on creation)."""

    name: str | UnsetType = UNSET
    type: str | UnsetType = UNSET
    content: str | UnsetType = UNSET
    subject: str | UnsetType | None = UNSET
    variables: list[str] | UnsetType | None = UNSET
    category: str | UnsetType | None = UNSET
    language: str | UnsetType = UNSET
    dlt_template_id: str | UnsetType | None = UNSET
    is_active: bool | UnsetType = UNSET


class TemplateView(msgspec.Struct, kw_only=True, rename="camel"):
    id: str  # template-N
    name: str
    type: str
    subject: str | None
    content: str
    variables: list[str]
    category: str | None
    language: str
    is_active: bool
    dlt_template_id: str | None
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, template: Template) -> TemplateView:
        assert template.id is not None
        return cls(
            id=public_template_id(template.id), name=template.name, type=str(template.channel),
            subject=template.subject, content=template.content, variables=list(template.variables),
            category=template.category, language=template.language, is_active=template.is_active,
            dlt_template_id=template.dlt_template_id, created_at=template.created_at,
            updated_at=template.updated_at)


class TemplateCreated(msgspec.Struct, kw_only=True, rename="camel"):
    """The specification's `{templateId, message}` plus the new resource."""

    template_id: str
    message: str
    template: TemplateView


class TemplateDeleted(msgspec.Struct, kw_only=True, rename="camel"):
    template_id: str
    message: str


class TemplatePreview(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Values to render with; every variable not given here is filled with a realistic sample."""

    data: dict[str, PreviewValue] | None = None

    def values(self) -> dict[str, str] | None:
        """The values as the text they will be rendered as (`12500.5` -> `"12500.5"`)."""
        if self.data is None:
            return None
        return {name: value if isinstance(value, str) else str(value) for name, value in self.data.items()}


class RenderedPreview(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """A template rendered: email has subject, html and text; SMS and WhatsApp have body; SMS adds encoding,
    segments and characters. `values` are the values used; `missing` names those filled with samples."""

    type: str
    values: dict[str, str]
    missing: list[str]
    subject: str | None = None
    html: str | None = None
    text: str | None = None
    body: str | None = None
    encoding: str | None = None
    segments: int | None = None
    characters: int | None = None
