"""The WhatsApp port: template, text, image and document messages through the WhatsApp Cloud API."""

from __future__ import annotations

from typing import Literal, Protocol

import msgspec

__all__ = [
    "ApprovedTemplate",
    "OutboundWhatsApp",
    "SentWhatsApp",
    "TemplateParameter",
    "WhatsAppRejected",
    "WhatsAppSender",
    "WhatsAppTemplateCatalogue",
    "WhatsAppUnavailable",
]

WhatsAppKind = Literal["template", "text", "image", "document"]


class TemplateParameter(msgspec.Struct, frozen=True, kw_only=True):
    """One parameter of a template component: text, or a media link for a header."""

    type: Literal["text", "image", "document"] = "text"
    text: str | None = None
    link: str | None = None
    filename: str | None = None


class OutboundWhatsApp(msgspec.Struct, frozen=True, kw_only=True):
    """One WhatsApp message; `reference` is our own message id (`msg-N`), sent as `biz_opaque_callback_data`.

    kind `template`: `template_name`, `language`, `header_parameters` (at most one media or text) and
    `body_parameters` ({{1}}, {{2}}, ... in order). kind `text`: `text`. kind `image` / `document`: `media_link`,
    optional `caption` and (documents) `filename`.
    """

    to: str  # E.164
    kind: WhatsAppKind
    reference: str
    text: str | None = None
    template_name: str | None = None
    language: str | None = None
    header_parameters: tuple[TemplateParameter, ...] = ()
    body_parameters: tuple[TemplateParameter, ...] = ()
    media_link: str | None = None
    caption: str | None = None
    filename: str | None = None


class SentWhatsApp(msgspec.Struct, frozen=True, kw_only=True):
    provider_message_id: str  # the `wamid.…` id status webhooks carry


class WhatsAppRejected(Exception):
    """Meta refused this message for good (invalid recipient, template not approved, outside the window...)."""

    def __init__(self, message: str, *, code: str = "rejected") -> None:
        super().__init__(message)
        self.code = code


class WhatsAppUnavailable(Exception):
    """Meta could not be reached, failed or throttled us: retry later."""

    def __init__(self, message: str, *, code: str = "unavailable", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


class WhatsAppSender(Protocol):
    async def send(self, message: OutboundWhatsApp) -> SentWhatsApp:
        """Hand the message to Meta; raises WhatsAppRejected or WhatsAppUnavailable."""
        ...


class ApprovedTemplate(msgspec.Struct, frozen=True, kw_only=True):
    """A template as Meta's `message_templates` endpoint reports it."""

    provider_id: str
    name: str
    language: str
    category: str
    status: str  # ours: pending | approved | rejected | paused | disabled
    components: list[dict[str, object]]
    rejected_reason: str | None = None


class WhatsAppTemplateCatalogue(Protocol):
    async def list_templates(self) -> list[ApprovedTemplate]:
        """Every template of the business account, following Meta's paging; raises WhatsAppUnavailable."""
        ...
