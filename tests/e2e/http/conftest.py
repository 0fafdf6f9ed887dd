"""An HTTP client over the real app on the real PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from entrypoints.container import AppContainer
from entrypoints.http.app import create_app
from entrypoints.resources import open_resources
from tests.identity_support import EVERYTHING_ROLE, bearer, make_user, token_for


@pytest.fixture
async def anonymous(sql_container: AppContainer) -> AsyncIterator[httpx.AsyncClient]:
    """httpx over ASGI in the test's own event loop, with the resources the lifespan would open; no token."""
    app = create_app(sql_container)
    async with open_resources(sql_container) as resources:
        app.state.resources = resources
        if resources.redis is not None:
            await resources.redis.flushdb()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as test_client:
            yield test_client


@pytest.fixture
async def client(anonymous: httpx.AsyncClient, sql_container: AppContainer) -> httpx.AsyncClient:
    """The same client signed in as a user whose role grants every permission at scope `all`."""
    user = await make_user(sql_container, EVERYTHING_ROLE)
    anonymous.headers.update(bearer(await token_for(sql_container, user)))
    return anonymous


async def make_customer(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    payload = {"firstName": "Asha", "lastName": "Rao", "email": "asha@example.in", "phone": "9876543210"}
    payload.update(body)
    response = await client.post("/api/customers", json=payload)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def make_policy(client: httpx.AsyncClient, customer_id: str, **body: Any) -> dict[str, Any]:
    payload = {"customerId": customer_id, "policyType": "motor", "premiumAmount": 12500.5,
               "startDate": "2025-12-01", "endDate": "2026-12-01"}
    payload.update(body)
    response = await client.post("/api/policies", json=payload)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data
