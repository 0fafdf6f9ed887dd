"""The in-memory twin of the case-list export rows: the memory case list's filters and scope, keyset batches."""

from __future__ import annotations

from collections.abc import AsyncIterator

from adapters.memory.read_models import case_visible, search_words, text_matches
from adapters.memory.store import MemoryStore
from application.policies.case_export import ExportRow
from application.policies.ports import CaseFilters
from application.shared.visibility import Visibility
from domain.policies.model import Policy, RenewalCase

__all__ = ["InMemoryCaseExportRows"]


class InMemoryCaseExportRows:
    def __init__(self, store: MemoryStore, *, currency: str) -> None:
        self._store = store
        self._currency = currency

    def _search(self, k: RenewalCase, p: Policy, q: str) -> bool:
        c = self._store.tables.customers[p.customer_id]
        return (text_matches(q, search_words(p.policy_number))
                or text_matches(q, search_words(c.first_name, c.last_name, c.customer_code))
                or k.case_number.startswith(q.strip().upper()))

    def _keep(self, k: RenewalCase, p: Policy, f: CaseFilters, visibility: Visibility) -> bool:
        return (case_visible(k, p, visibility)
                and (not f.status or k.status in f.status) and (not f.priority or k.priority in f.priority)
                and (not f.assigned_to or k.assigned_to in f.assigned_to)
                and (not f.batch_id or k.batch_id in f.batch_id)
                and (f.renewal_from is None or p.renewal_date >= f.renewal_from)
                and (f.renewal_to is None or p.renewal_date <= f.renewal_to)
                and (not f.q or self._search(k, p, f.q)))

    def _row(self, k: RenewalCase, p: Policy) -> ExportRow:
        tables = self._store.tables
        c = tables.customers[p.customer_id]
        user = tables.users.get(k.assigned_to) if k.assigned_to is not None else None
        assignee = None
        if user is not None:
            assignee = f"{user.first_name} {user.last_name}".strip() or None
        return ExportRow(case_number=k.case_number, policy_number=p.policy_number,
                         customer_name=f"{c.first_name} {c.last_name}", status=str(k.status),
                         priority=str(k.priority), assignee=assignee, renewal_date=p.renewal_date,
                         renewal_amount=k.renewal_amount, currency=self._currency,
                         payment_status=str(k.payment_status), communication_attempts=k.communication_attempts,
                         last_contact_date=k.last_contact_date)

    async def batches(self, filters: CaseFilters, visibility: Visibility, *, limit: int | None,
                      batch_size: int) -> AsyncIterator[list[ExportRow]]:
        tables = self._store.tables
        found = sorted(((tables.policies[k.policy_id].renewal_date, k.id or 0, k)
                        for k in list(tables.cases.values())
                        if self._keep(k, tables.policies[k.policy_id], filters, visibility)),
                       key=lambda t: (t[0], t[1]))
        if limit is not None:
            found = found[:limit]
        for start in range(0, len(found), batch_size):
            yield [self._row(k, tables.policies[k.policy_id]) for _, _, k in found[start:start + batch_size]]
