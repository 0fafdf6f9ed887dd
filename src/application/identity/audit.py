"""Writing and reading the security audit trail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application.identity.principal import ClientInfo
from application.identity.repositories import AuditFilters, IdentityUnitOfWork
from application.identity.views import AuditView
from application.shared.pagination import Page, PageRequest
from domain.identity.model import AuditEntry

__all__ = ["AuditService", "entry"]


def entry(action: str, client: ClientInfo, *, actor_id: int | None, entity_type: str = "user",
          entity_id: int | None = None, **data: Any) -> AuditEntry:
    """An audit entry for `action` by `actor_id` from `client`."""
    return AuditEntry(action=action, entity_type=entity_type, entity_id=entity_id, actor_id=actor_id,
                      data={k: v for k, v in data.items() if v is not None}, ip_address=client.ip,
                      user_agent=client.user_agent, request_id=client.request_id)


class AuditService:
    def __init__(self, *, uow: Callable[[], IdentityUnitOfWork]) -> None:
        self._uow = uow

    async def record(self, item: AuditEntry) -> None:
        """Write one entry in a unit of its own (failures and denials, whose own unit rolled back)."""
        async with self._uow() as uow:
            uow.audit.add(item)
            await uow.commit()

    async def list(self, filters: AuditFilters, page: PageRequest) -> Page[AuditView]:
        async with self._uow() as uow:
            found = await uow.audit.list(filters, page)
        return Page(items=[AuditView.of(e) for e in found.items], page=found.page, limit=found.limit,
                    total=found.total)
