"""Message templates: /api/templates (the specification's paths, plus PATCH, DELETE and a preview)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, PathParameter, QueryParameter

from application.identity.principal import Principal
from application.messaging.ports import TemplateFilters
from application.messaging.template_views import (
    NewTemplate,
    RenderedPreview,
    TemplateCreated,
    TemplatePatch,
    TemplatePreview,
    TemplateView,
)
from application.messaging.templates import TemplateService
from domain.identity.permissions import Permission as P
from domain.messaging.model import Channel
from entrypoints.http.deps import container_of
from entrypoints.http.envelope import Envelope, Pagination, error_responses, ok, pagination_of
from entrypoints.http.guard import principal_of, requires
from entrypoints.http.ids import path_id
from entrypoints.http.lists import enum_values, page_request
from entrypoints.http.params import Csv, Limit, Page, Sort

__all__ = ["TemplateController", "TemplateList"]

Templates = NamedDependency[TemplateService]
Caller = NamedDependency[Principal]
Ident = Annotated[str, PathParameter(description="Public id such as `template-7`, or the bare number")]
ActiveQ = Annotated[bool | None, QueryParameter(description="Only active (`true`) or inactive (`false`) templates")]
NameQ = Annotated[str | None, QueryParameter(description="Part of the template's name (case-insensitive)")]
TEMPLATE_SORT = ("name", "createdAt", "updatedAt")


class TemplateList(msgspec.Struct, kw_only=True):
    templates: list[TemplateView]
    pagination: Pagination


def _templates(state: State) -> TemplateService:
    service: TemplateService = container_of(state).messaging.templates()
    return service


class TemplateController(Controller):
    path = "/api/templates"
    tags = ["templates"]
    dependencies = {"templates": Provide(_templates, sync_to_thread=False),
                    "principal": Provide(principal_of, sync_to_thread=False)}

    @get("/", opt=requires(P.TEMPLATES_READ), responses=error_responses(422),
         description=f"Sort whitelist: {', '.join(TEMPLATE_SORT)}; default `name`.")
    async def list_templates(self, templates: Templates, page: Page = 1, limit: Limit = 20, sort: Sort = None,
                             type: Csv = None, active: ActiveQ = None, q: NameQ = None) -> Envelope[TemplateList]:
        """Templates by channel (`type=email,sms`), active state and name."""
        request = page_request(page, limit, sort, TEMPLATE_SORT, "name")
        channels = tuple(Channel(c) for c in enum_values(type, Channel, "type"))
        filters = TemplateFilters(channels=channels, active=active, q=(q or "").strip() or None)
        result = await templates.list(filters, request)
        return ok(TemplateList(templates=result.items, pagination=pagination_of(result)))

    @get("/{template_id:str}", opt=requires(P.TEMPLATES_READ), responses=error_responses(404))
    async def get_template(self, template_id: Ident, templates: Templates) -> Envelope[TemplateView]:
        return ok(await templates.get(path_id(template_id, "template")))

    @post("/", opt=requires(P.TEMPLATES_WRITE), status_code=201, responses=error_responses(400, 409, 422))
    async def create_template(self, data: JSONBody[NewTemplate], templates: Templates,
                              principal: Caller) -> Envelope[TemplateCreated]:
        """Create a template; `{name}` variables must all be declared in `variables` (by default, the ones the
        subject and content use)."""
        return ok(await templates.create(data, principal.user_id))

    @patch("/{template_id:str}", opt=requires(P.TEMPLATES_WRITE), responses=error_responses(400, 404, 409, 422))
    async def update_template(self, template_id: Ident, data: JSONBody[TemplatePatch],
                              templates: Templates) -> Envelope[TemplateView]:
        """Change some fields of a template; it is checked again as a whole."""
        return ok(await templates.update(path_id(template_id, "template"), data))

    @delete("/{template_id:str}", opt=requires(P.TEMPLATES_WRITE), status_code=204, responses=error_responses(404))
    async def delete_template(self, template_id: Ident, templates: Templates) -> None:
        """Delete a template (204); messages already sent keep their rendered copy."""
        await templates.delete(path_id(template_id, "template"))

    @post("/{template_id:str}/preview", opt=requires(P.TEMPLATES_READ), status_code=200,
          responses=error_responses(400, 404, 422))
    async def preview_template(self, template_id: Ident, templates: Templates,
                               data: JSONBody[TemplatePreview | None] = None) -> Envelope[RenderedPreview]:
        """Render with the given `data`; variables not given are filled with realistic samples (named in
        `missing`). SMS previews report the encoding (GSM-7 or UCS-2), characters and segments."""
        values = data.values() if data is not None else None
        return ok(await templates.preview(path_id(template_id, "template"), values))
