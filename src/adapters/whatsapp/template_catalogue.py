"""List a WhatsApp Business Account's message templates: `GET /{api_version}/{waba_id}/message_templates`.

Followed: https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/message_templates
(fields `id, name, status, category, language, components, rejected_reason`; statuses APPROVED, IN_APPEAL, PENDING,
REJECTED, PENDING_DELETION, DELETED, DISABLED, PAUSED, LIMIT_EXCEEDED) and the Graph API cursor paging of
https://developers.facebook.com/docs/graph-api/results (`paging.next` absent on the last page).

The next page is read from `paging.next` when it points at our own base URL, else rebuilt from
`paging.cursors.after` on our own path, so the access token never goes to another host. Meta's statuses become
ours: approved, pending (PENDING, IN_APPEAL), rejected (REJECTED, LIMIT_EXCEEDED), paused, and disabled for the
rest (DISABLED, PENDING_DELETION, DELETED, ARCHIVED and anything unknown: none of them can be sent).
Every failure, a refused request included, is WhatsAppUnavailable (the port's contract).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from adapters.whatsapp.cloud_api_sender import graph_error
from application.ports.whatsapp import ApprovedTemplate, WhatsAppUnavailable

__all__ = ["TEMPLATE_FIELDS", "CloudApiTemplateCatalogue", "template_status"]

TEMPLATE_FIELDS = "name,status,category,language,components,rejected_reason"
_STATUSES = {
    "APPROVED": "approved",
    "PENDING": "pending", "IN_APPEAL": "pending",
    "REJECTED": "rejected", "LIMIT_EXCEEDED": "rejected",
    "PAUSED": "paused",
    "DISABLED": "disabled", "PENDING_DELETION": "disabled", "DELETED": "disabled", "ARCHIVED": "disabled",
}


def template_status(meta_status: str) -> str:
    """Our status (approved | pending | rejected | paused | disabled) for one of Meta's template statuses."""
    return _STATUSES.get(meta_status.upper(), "disabled")


def _bad_response(text: str) -> WhatsAppUnavailable:
    return WhatsAppUnavailable(f"message_templates: {text}", code="whatsapp:bad_response")


def _template(item: Any) -> ApprovedTemplate:
    if not isinstance(item, dict):
        raise _bad_response(f"a template is not an object: {item!r}")
    try:
        provider_id, name, language = str(item["id"]), str(item["name"]), str(item["language"])
    except KeyError as exc:
        raise _bad_response(f"a template has no {exc.args[0]!r}: {item!r}") from exc
    components = item.get("components") or []
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise _bad_response(f"template {name!r} has malformed components")
    reason = item.get("rejected_reason")
    return ApprovedTemplate(
        provider_id=provider_id, name=name, language=language, category=str(item.get("category") or ""),
        status=template_status(str(item.get("status") or "")), components=components,
        rejected_reason=str(reason) if reason and reason != "NONE" else None,
    )


class CloudApiTemplateCatalogue:
    def __init__(self, client: httpx.AsyncClient, *, access_token: str, business_account_id: str,
                 api_version: str = "v21.0", base_url: str = "https://graph.facebook.com",
                 page_size: int = 100, max_pages: int = 200) -> None:
        """Wrap an httpx client created once per process; `max_pages` stops a server that pages forever."""
        self._client = client
        self._origin = urlsplit(base_url)[:2]
        self._url = f"{base_url.rstrip('/')}/{api_version}/{business_account_id}/message_templates"
        self._params = {"fields": TEMPLATE_FIELDS, "limit": str(page_size)}
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._max_pages = max_pages

    async def _page(self, url: str, params: dict[str, str] | None) -> dict[str, Any]:
        try:
            response = await self._client.get(url, params=params, headers=self._headers)
        except httpx.HTTPError as exc:
            raise WhatsAppUnavailable(f"cannot reach the Graph API: {exc!r}", code="whatsapp:network") from exc
        if response.status_code >= 400:
            error = graph_error(response)
            raise WhatsAppUnavailable(str(error), code=error.code) from error
        try:
            page = response.json()
        except ValueError as exc:
            raise _bad_response(f"HTTP {response.status_code} without JSON") from exc
        if not isinstance(page, dict) or not isinstance(page.get("data", []), list):
            raise _bad_response("the answer has no `data` list")
        return page

    def _next_request(self, paging: Any, visited: set[str]) -> tuple[str, dict[str, str] | None] | None:
        """The next page's (url, params), or None on the last page."""
        if not isinstance(paging, dict) or not paging.get("next"):
            return None
        next_url = str(paging["next"])
        after = (paging.get("cursors") or {}).get("after")
        if urlsplit(next_url)[:2] == self._origin:
            request: tuple[str, dict[str, str] | None] = (next_url, None)
        elif after:
            request = (self._url, {**self._params, "after": str(after)})
        else:
            raise _bad_response(f"paging.next points at another host and has no cursor: {next_url}")
        key = f"{request[0]}?{sorted((request[1] or {}).items())}"
        if key in visited:
            raise _bad_response("paging returned a page already read")
        visited.add(key)
        return request

    async def list_templates(self) -> list[ApprovedTemplate]:
        """Every template of the business account, all pages; raises WhatsAppUnavailable."""
        templates: list[ApprovedTemplate] = []
        visited: set[str] = set()
        request: tuple[str, dict[str, str] | None] | None = (self._url, self._params)
        for _ in range(self._max_pages):
            if request is None:
                return templates
            page = await self._page(*request)
            templates.extend(_template(item) for item in page.get("data", []))
            request = self._next_request(page.get("paging"), visited)
        if request is None:
            return templates
        raise _bad_response(f"more than {self._max_pages} pages")
