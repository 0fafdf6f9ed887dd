"""The export's rows: the case list's filters and scope, renewal-date order, keyset batches; memory and SQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import update

from adapters.memory.store import MemoryStore
from adapters.sqlalchemy.tables.policies import renewal_cases
from application.policies.case_export import CaseExportRows, ExportRow
from application.policies.ports import CaseFilters
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING, Visibility
from entrypoints.container import AppContainer
from tests.factories import OwnedCases, as_date, new_customer, new_policy, seed_owned_cases, set_case_owners
from tests.identity_support import make_user


def _rows_port(container: AppContainer) -> CaseExportRows:
    rows: CaseExportRows = container.case_views.storage.export_rows()
    return rows


async def _all(container: AppContainer, filters: CaseFilters, visibility: Visibility, *, limit: int | None = None,
               batch_size: int = 500) -> list[list[ExportRow]]:
    return [batch async for batch in _rows_port(container).batches(filters, visibility, limit=limit,
                                                                     batch_size=batch_size)]


def _numbers(batches: list[list[ExportRow]]) -> list[str]:
    return [r.case_number for batch in batches for r in batch]


async def _case_numbers(container: AppContainer, owned: OwnedCases) -> dict[int, str]:
    views = container.application.cases()
    return {case_id: (await views.get(case_id, EVERYTHING)).case_number
            for case_id in (owned.a1, owned.b1, owned.b2, owned.e2, owned.b0)}


async def test_rows_come_in_renewal_date_order_in_batches_up_to_the_limit(container: AppContainer) -> None:
    owned = await seed_owned_cases(container)
    number = await _case_numbers(container, owned)
    in_order = [number[c] for c in (owned.a1, owned.b1, owned.b2, owned.e2, owned.b0)]  # renewal in 5..9 days

    batches = await _all(container, CaseFilters(), EVERYTHING, batch_size=2)
    assert [len(b) for b in batches] == [2, 2, 1] and _numbers(batches) == in_order
    assert _numbers(await _all(container, CaseFilters(), EVERYTHING, limit=3, batch_size=2)) == in_order[:3]
    assert [len(b) for b in await _all(container, CaseFilters(), EVERYTHING, limit=4, batch_size=2)] == [2, 2]


async def test_scope_is_the_case_lists(container: AppContainer) -> None:
    owned = await seed_owned_cases(container)
    number = await _case_numbers(container, owned)

    def names(*ids: int) -> list[str]:
        return [number[i] for i in ids]

    agent_a = Visibility(reach="own", user_id=owned.agent_a)
    agent_b = Visibility(reach="own", user_id=owned.agent_b)
    manager_1 = Visibility(reach="branch", user_id=owned.agent_c, branch_id=owned.branch1)
    assert _numbers(await _all(container, CaseFilters(), agent_a, batch_size=1)) == names(owned.a1, owned.e2)
    assert _numbers(await _all(container, CaseFilters(), agent_b)) == names(owned.b1, owned.b2, owned.b0)
    assert _numbers(await _all(container, CaseFilters(), manager_1)) == names(owned.a1, owned.b1)


async def test_filters_are_the_case_lists(container: AppContainer) -> None:
    owned = await seed_owned_cases(container)
    number = await _case_numbers(container, owned)
    by = {
        CaseFilters(assigned_to=(owned.agent_b,)): [owned.b1, owned.b2, owned.b0],
        CaseFilters(renewal_from=as_date(6), renewal_to=as_date(7)): [owned.b1, owned.b2],
        CaseFilters(status=("new",), priority=("urgent", "high", "medium", "low")): [
            owned.a1, owned.b1, owned.b2, owned.e2, owned.b0],
        CaseFilters(status=("renewed",)): [],
        CaseFilters(q=number[owned.b2]): [owned.b2],
        CaseFilters(q="asha"): [owned.a1, owned.b1, owned.b2, owned.e2, owned.b0],
    }
    for filters, expected in by.items():
        assert _numbers(await _all(container, filters, EVERYTHING)) == [number[c] for c in expected], filters


async def test_a_row_carries_the_case_policy_customer_and_assignee(container: AppContainer) -> None:
    customer = await container.application.customers().register(new_customer(first_name="Ravi", last_name="Das"))
    policy = await container.application.policies().issue(
        new_policy(customer.id, renewal_in_days=10, premium_amount=Decimal("9999.50")))
    cases = container.application.cases()
    await cases.open_due_cases()
    agent = await make_user(container, "agent", first_name="Meena", last_name="Iyer")
    assert agent.id is not None
    (case,) = (await cases.list(CaseFilters(), PageRequest(), EVERYTHING)).items
    await set_case_owners(container, int(case.id), assigned_to=agent.id)
    contacted = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)
    await _contacted(container, int(case.id), contacted)

    (row,) = _flat(await _all(container, CaseFilters(), EVERYTHING))

    assert row == ExportRow(
        case_number=case.case_number, policy_number=policy.policy_number, customer_name="Ravi Das", status="new",
        priority=case.priority, assignee="Meena Iyer", renewal_date=policy.renewal_date,
        renewal_amount=Decimal("9999.50"), currency="INR", payment_status="pending", communication_attempts=2,
        last_contact_date=contacted)
    await set_case_owners(container, int(case.id))
    assert _flat(await _all(container, CaseFilters(), EVERYTHING))[0].assignee is None


def _flat(batches: list[list[ExportRow]]) -> list[ExportRow]:
    return [r for b in batches for r in b]


async def _contacted(container: AppContainer, case_id: int, when: datetime) -> None:
    engine = container.adapters.engine()
    if engine is None:
        store: MemoryStore = container.adapters.store()  # type: ignore[union-attr]
        store.tables.cases[case_id].communication_attempts = 2
        store.tables.cases[case_id].last_contact_date = when
        return
    async with engine.begin() as conn:
        await conn.execute(update(renewal_cases).where(renewal_cases.c.id == case_id).values(
            communication_attempts=2, last_contact_date=when))
