"""Two workers opening due cases at the same moment never open a policy term twice."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from adapters.sqlalchemy.tables.policies import renewal_cases
from entrypoints.container import AppContainer
from tests.factories import new_customer, new_policy


async def test_concurrent_case_opening_opens_each_term_once(sql_container: AppContainer) -> None:
    customer = await sql_container.application.customers().register(new_customer())
    issue = sql_container.application.policies().issue
    for i in range(60):
        await issue(new_policy(customer.id, renewal_in_days=i % 40))
    cases = sql_container.application.cases()
    results = await asyncio.gather(cases.open_due_cases(), cases.open_due_cases(), cases.open_due_cases())
    assert sum(results) == 60
    async with sql_container.adapters.engine().connect() as conn:
        total = await conn.scalar(select(func.count()).select_from(renewal_cases))
        distinct_terms = await conn.scalar(select(func.count(func.distinct(
            func.concat(renewal_cases.c.policy_id, "/", renewal_cases.c.term_end_date)))))
        numbers = await conn.scalar(select(func.count(func.distinct(renewal_cases.c.case_number))))
    assert total == distinct_terms == numbers == 60
    assert await cases.open_due_cases() == 0
