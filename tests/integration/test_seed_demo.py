"""`renewals seed-demo`: realistic demo data once, built-in roles from the identity domain."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from adapters.sqlalchemy.tables.identity import branches, roles, users
from adapters.sqlalchemy.tables.policies import customers, policies
from domain.identity.roles import BUILT_IN_ROLES
from entrypoints.container import AppContainer
from entrypoints.seed import seed_demo
from tests.factories import TODAY, new_customer


async def test_seeding_needs_the_built_in_roles_first(sql_container: AppContainer) -> None:
    with pytest.raises(RuntimeError, match="renewals migrate"):
        await seed_demo(sql_container.adapters.engine(), today=TODAY, count=5)


async def test_built_in_roles_are_ensured_idempotently(sql_container: AppContainer) -> None:
    provisioning = sql_container.identity.provisioning()
    assert await provisioning.ensure_built_in_roles() == [role.name for role in BUILT_IN_ROLES]
    assert await provisioning.ensure_built_in_roles() == []


async def test_demo_data_is_seeded_once_around_today(sql_container: AppContainer) -> None:
    engine = sql_container.adapters.engine()
    await sql_container.identity.provisioning().ensure_built_in_roles()  # what `renewals migrate` does
    assert await seed_demo(engine, today=TODAY, count=120) == 120
    assert await seed_demo(engine, today=TODAY, count=120) == 0
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(customers)) == 120
        role_rows = {r.name: r for r in await conn.execute(select(roles))}
        assert set(role_rows) == {role.name for role in BUILT_IN_ROLES}
        assert role_rows["agent"].permissions["cases:read"] == "own" and role_rows["admin"].requires_mfa
        assert await conn.scalar(select(func.count()).select_from(branches).where(
            branches.c.manager_id.is_not(None))) == 4
        assert await conn.scalar(select(func.count()).select_from(users)) == 12
        earliest, latest = (await conn.execute(select(func.min(policies.c.renewal_date),
                                                      func.max(policies.c.renewal_date)))).one()
    assert (TODAY - earliest).days <= 60 and (latest - TODAY).days <= 120
    assert await sql_container.application.cases().open_due_cases() > 0
    customer = await sql_container.application.customers().register(new_customer())
    assert customer.customer_code == "CUST-000121"  # the code sequence continues after the seed
