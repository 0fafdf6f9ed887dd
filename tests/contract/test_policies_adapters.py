"""Every repository and read-model behaviour, run against the in-memory and the PostgreSQL adapters."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from application.policies.commands import CustomerChanges, PolicyChanges
from application.policies.ports import CaseFilters, PolicyFilters
from application.shared.pagination import PageRequest, SortKey
from application.shared.visibility import EVERYTHING, Visibility
from domain.policies.model import Customer, KycStatus
from domain.shared.errors import Conflict, NotFound, ValidationFailed
from entrypoints.container import AppContainer
from tests.factories import TODAY, OwnedCases, as_date, new_customer, new_policy, seed_owned_cases


async def test_customer_is_added_read_back_and_changed(container: AppContainer) -> None:
    customers = container.application.customers()
    view = await customers.register(new_customer(email=" Asha.Rao@Example.IN ", phone="098765 43210",
                                                 address={"city": "Pune", "pincode": "411001"},
                                                 communication_preferences={"whatsapp": True}))
    assert view.customer_code == "CUST-000001"
    assert view.address == {"city": "Pune", "pincode": "411001"}
    listed = (await customers.list(_filters_none(), PageRequest())).items[0]
    assert listed.communication_preferences == {"whatsapp": True} and listed.address == view.address
    assert view.email == "asha.rao@example.in" and view.phone == "+919876543210"
    changed = await customers.update(view.id, CustomerChanges(last_name="Rao-Iyer", kyc_status="verified"))
    assert (changed.last_name, changed.kyc_status, changed.email) == ("Rao-Iyer", "verified", view.email)
    assert (await customers.get(view.id)).full_name == "Asha Rao-Iyer"


async def test_repository_round_trips_the_aggregate(container: AppContainer) -> None:
    async with container.adapters.policies_uow() as uow:
        customer = Customer(customer_code="C-1", first_name="Ravi", last_name="Das", address={"city": "Pune"},
                            kyc_status=KycStatus.VERIFIED)
        await uow.customers.add(customer)
        await uow.commit()
    assert customer.id is not None and customer.created_at is not None
    async with container.adapters.policies_uow() as uow:
        loaded = await uow.customers.get(customer.id)
        assert loaded is not None
        assert (loaded.customer_code, loaded.address, loaded.kyc_status) == ("C-1", {"city": "Pune"}, "verified")
        assert await uow.customers.get(customer.id + 1000) is None


async def test_duplicate_customer_code_is_a_conflict_and_writes_nothing(container: AppContainer) -> None:
    customers = container.application.customers()
    await customers.register(new_customer(customer_code="VIP-1"))
    with pytest.raises(Conflict) as raised:
        await customers.register(new_customer(customer_code="vip-1", first_name="Other"))
    assert raised.value.field == "customerCode"
    page = await customers.list(_filters_none(), PageRequest())
    assert page.total == 1


def _filters_none():  # type: ignore[no-untyped-def]
    from application.policies.ports import CustomerFilters
    return CustomerFilters()


async def test_rolled_back_unit_leaves_nothing(container: AppContainer) -> None:
    async with container.adapters.policies_uow() as uow:
        await uow.customers.add(Customer(customer_code="GONE", first_name="A", last_name="B"))
        # no commit
    async with container.adapters.policies_uow() as uow:
        assert await uow.customers.get(1) is None


async def test_policy_rules_apply_before_any_write(container: AppContainer) -> None:
    customer = await container.application.customers().register(new_customer())
    policies = container.application.policies()
    with pytest.raises(ValidationFailed) as raised:
        await policies.issue(new_policy(customer.id, premium_amount=Decimal("-5"), end_date=as_date(-400)))
    assert {d.field for d in raised.value.details} == {"premiumAmount", "endDate"}
    with pytest.raises(ValidationFailed) as missing:
        await policies.issue(new_policy(9999))
    assert missing.value.details[0].field == "customerId"
    assert (await policies.list(PolicyFilters(), PageRequest())).total == 0


async def test_policy_number_is_generated_unique_and_renewal_date_defaults(container: AppContainer) -> None:
    customer = await container.application.customers().register(new_customer())
    policies = container.application.policies()
    first = await policies.issue(new_policy(customer.id))
    second = await policies.issue(new_policy(customer.id, policy_number="ext-77"))
    assert first.policy_number == f"POL-{TODAY.year}-000001" and second.policy_number == "EXT-77"
    assert first.renewal_date == first.end_date and first.customer_name == "Asha Rao"
    with pytest.raises(Conflict):
        await policies.issue(new_policy(customer.id, policy_number="EXT-77"))


async def test_moving_the_end_date_moves_a_following_renewal_date(container: AppContainer) -> None:
    customer = await container.application.customers().register(new_customer())
    policies = container.application.policies()
    policy = await policies.issue(new_policy(customer.id))
    moved = await policies.update(policy.id, PolicyChanges(end_date=policy.end_date + timedelta(days=10)))
    assert moved.renewal_date == moved.end_date == policy.end_date + timedelta(days=10)
    with pytest.raises(ValidationFailed):
        await policies.update(policy.id, PolicyChanges(start_date=moved.end_date))
    with pytest.raises(NotFound):
        await policies.update(424242, PolicyChanges(status="lapsed"))


async def test_due_policies_get_exactly_one_case_per_term(container: AppContainer) -> None:
    customer = await container.application.customers().register(new_customer())
    policies = container.application.policies()
    due = await policies.issue(new_policy(customer.id, renewal_in_days=5, premium_amount=Decimal("60000")))
    await policies.issue(new_policy(customer.id, renewal_in_days=120))  # outside the 45-day window
    overdue = await policies.issue(new_policy(customer.id, renewal_in_days=-10))  # inside the grace period
    await policies.issue(new_policy(customer.id, renewal_in_days=-40))  # grace period over
    await policies.issue(new_policy(customer.id, renewal_in_days=3, status="cancelled"))
    cases = container.application.cases()
    assert await cases.open_due_cases() == 2
    assert await cases.open_due_cases() == 0
    assert await cases.open_case_for_policy(due.id) == 0
    page = await cases.list(CaseFilters(), PageRequest(sort=(SortKey("renewalDate"),)), EVERYTHING)
    assert [c.policy_id for c in page.items] == [overdue.id, due.id]
    urgent = page.items[1]
    assert urgent.case_number == f"RC-{TODAY.year}-000002" or urgent.case_number.startswith(f"RC-{TODAY.year}-")
    assert (urgent.priority, urgent.renewal_amount, urgent.status) == ("urgent", Decimal("60000.00"), "new")
    assert (await cases.get(urgent.id, EVERYTHING)).policy_number == due.policy_number


async def test_policy_list_filters_sorts_searches_and_paginates(container: AppContainer) -> None:
    customers = container.application.customers()
    asha = await customers.register(new_customer())
    vikram = await customers.register(new_customer(first_name="Vikram", last_name="Menon", email=None))
    policies = container.application.policies()
    made = []
    for i in range(7):
        owner = asha if i % 2 else vikram
        made.append(await policies.issue(new_policy(
            owner.id, renewal_in_days=100 + i, policy_type="health" if i < 3 else "motor",
            premium_amount=Decimal(1000 + i))))
    page = await policies.list(PolicyFilters(), PageRequest(page=2, limit=3))
    assert (page.total, page.total_pages, [p.id for p in page.items]) == (7, 3, [m.id for m in made[3:6]])
    by_premium = await policies.list(PolicyFilters(), PageRequest(sort=(SortKey("premiumAmount", True),)))
    assert by_premium.items[0].premium_amount == Decimal("1006.00")
    health = await policies.list(PolicyFilters(policy_type=("health",)), PageRequest())
    assert health.total == 3
    ranged = await policies.list(PolicyFilters(renewal_from=as_date(102), renewal_to=as_date(104)), PageRequest())
    assert ranged.total == 3
    mine = await policies.list(PolicyFilters(customer_id=(asha.id,)), PageRequest())
    assert {p.customer_name for p in mine.items} == {"Asha Rao"} and mine.total == 3
    by_name = await policies.list(PolicyFilters(q="vik men"), PageRequest())
    assert by_name.total == 4
    by_number = await policies.list(PolicyFilters(q=made[5].policy_number), PageRequest())
    assert [p.id for p in by_number.items] == [made[5].id]
    nothing = await policies.list(PolicyFilters(q="zzz", status=("active",)), PageRequest())
    assert nothing.total == 0 and nothing.items == []


async def test_cases_sort_by_urgency_not_alphabet(container: AppContainer) -> None:
    customer = await container.application.customers().register(new_customer())
    issue = container.application.policies().issue
    for days, premium in ((40, "1000"), (3, "60000"), (10, "20000"), (5, "2000")):  # low, urgent, medium, high
        await issue(new_policy(customer.id, renewal_in_days=days, premium_amount=Decimal(premium)))
    cases = container.application.cases()
    assert await cases.open_due_cases() == 4
    page = await cases.list(CaseFilters(), PageRequest(sort=(SortKey("priority", True),)), EVERYTHING)
    assert [c.priority for c in page.items] == ["urgent", "high", "medium", "low"]


async def test_statuses_sort_in_workflow_order(container: AppContainer) -> None:
    customer = await container.application.customers().register(new_customer())
    issue = container.application.policies().issue
    for status in ("lapsed", "active", "cancelled", "pending"):
        await issue(new_policy(customer.id, status=status))
    page = await container.application.policies().list(PolicyFilters(), PageRequest(sort=(SortKey("status"),)))
    assert [p.status for p in page.items] == ["active", "pending", "lapsed", "cancelled"]


def _own(user: int) -> Visibility:
    return Visibility(reach="own", user_id=user)


def _branch(user: int, branch: int | None) -> Visibility:
    return Visibility(reach="branch", user_id=user, branch_id=branch)


async def _visible(container: AppContainer, visibility: Visibility, filters: CaseFilters | None = None,
                   ) -> tuple[set[int], int, int]:
    """The ids a visibility lists, and its total from the fast path (a short first page) and from a count."""
    cases = container.application.cases()
    listed = await cases.list(filters or CaseFilters(), PageRequest(limit=100), visibility)
    counted = await cases.list(filters or CaseFilters(), PageRequest(limit=1), visibility)
    return {int(c.id) for c in listed.items}, listed.total, counted.total


async def test_case_lists_show_and_count_only_the_visible_cases(container: AppContainer) -> None:
    s = await seed_owned_cases(container)
    expected: list[tuple[Visibility, set[int]]] = [
        (EVERYTHING, {s.a1, s.b1, s.b2, s.e2, s.b0}),
        (Visibility(reach="all", user_id=s.agent_c, branch_id=s.branch1), {s.a1, s.b1, s.b2, s.e2, s.b0}),
        (_own(s.agent_a), {s.a1, s.e2}),  # an escalation to A is A's own
        (_own(s.agent_b), {s.b1, s.b2, s.b0}),
        (_own(s.agent_c), set()),
        (_branch(s.agent_a, s.branch1), {s.a1, s.b1, s.e2}),
        (_branch(s.agent_b, s.branch2), {s.b1, s.b2, s.e2, s.b0}),
        (_branch(s.agent_c, s.branch2), {s.b2, s.e2}),
        (_branch(s.agent_a, None), {s.a1, s.e2}),  # a branch reach without a branch is an own reach
    ]
    for visibility, ids in expected:
        assert await _visible(container, visibility) == (ids, len(ids), len(ids)), visibility


async def test_visibility_and_filters_both_apply(container: AppContainer) -> None:
    s = await seed_owned_cases(container)
    mine = CaseFilters(assigned_to=(s.agent_b,))
    assert await _visible(container, _own(s.agent_b), mine) == ({s.b1, s.b2, s.b0}, 3, 3)
    assert await _visible(container, _branch(s.agent_a, s.branch1), mine) == ({s.b1}, 1, 1)
    assert await _visible(container, _own(s.agent_a), mine) == (set(), 0, 0)
    second = await container.application.cases().list(
        CaseFilters(), PageRequest(page=2, limit=2, sort=(SortKey("renewalDate"),)), _branch(s.agent_b, s.branch2))
    assert ([int(c.id) for c in second.items], second.total) == ([s.e2, s.b0], 4)


async def test_an_invisible_case_is_not_found(container: AppContainer) -> None:
    s: OwnedCases = await seed_owned_cases(container)
    read = container.adapters.policies_read_model()
    assert (await read.get_case(s.e2, _own(s.agent_a))) is not None  # escalated to A
    assert (await read.get_case(s.b2, _own(s.agent_a))) is None
    assert (await read.get_case(s.b1, _branch(s.agent_a, s.branch1))) is not None
    assert (await read.get_case(s.b1, _branch(s.agent_a, None))) is None
    assert (await read.get_case(s.b0, _branch(s.agent_a, s.branch1))) is None  # no branch: only its owners
    assert (await read.get_case(s.b0, EVERYTHING)) is not None
    cases = container.application.cases()
    assert int((await cases.get(s.a1, _own(s.agent_a))).id) == s.a1
    with pytest.raises(NotFound):
        await cases.get(s.a1, _own(s.agent_b))
    with pytest.raises(NotFound):
        await cases.get(s.a1, _own(s.agent_c))
