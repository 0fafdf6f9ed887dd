"""Cross-cutting HTTP behaviour: health, request ids, metrics, OpenAPI and the envelope."""

from __future__ import annotations

import httpx
from arq.connections import ArqRedis

from adapters.sqlalchemy.engine import make_engine
from entrypoints.resources import Resources

EXPECTED_OPERATIONS = {
    ("/api/customers", "get"), ("/api/customers", "post"), ("/api/customers/{customer_id}", "get"),
    ("/api/customers/{customer_id}", "patch"), ("/api/policies", "get"), ("/api/policies", "post"),
    ("/api/policies/{policy_id}", "get"), ("/api/policies/{policy_id}", "patch"), ("/api/cases", "get"),
    ("/api/cases/{case_id}", "get"), ("/api/policy-types", "get"), ("/health/live", "get"),
    ("/health/ready", "get"),
}


async def test_ready_when_postgres_and_redis_answer(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert {c["name"]: c["ok"] for c in response.json()["checks"]} == {"postgres": True, "redis": True}
    assert (await client.get("/health/live")).status_code == 200


async def test_not_ready_with_503_when_a_dependency_is_down(client: httpx.AsyncClient) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    healthy: Resources = app.state.resources
    dead_redis = ArqRedis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    app.state.resources = Resources(engine=healthy.engine, redis=dead_redis)
    response = await client.get("/health/ready")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert {c["name"]: c["ok"] for c in response.json()["checks"]} == {"postgres": True, "redis": False}
    dead_pg = make_engine("postgresql://postgres@127.0.0.1:1/none")
    app.state.resources = Resources(engine=dead_pg, redis=healthy.redis)
    response = await client.get("/health/ready")
    assert response.status_code == 503
    assert {c["name"]: c["ok"] for c in response.json()["checks"]} == {"postgres": False, "redis": True}
    await dead_pg.dispose()
    await dead_redis.aclose()
    app.state.resources = healthy


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    generated = await client.get("/api/policies")
    assert len(generated.headers["x-request-id"]) == 32
    echoed = await client.get("/api/policies/policy-404", headers={"X-Request-ID": "desk-trace-0001"})
    assert echoed.headers["x-request-id"] == "desk-trace-0001"
    assert echoed.json()["error"]["requestId"] == "desk-trace-0001"
    hostile = await client.get("/api/policies", headers={"X-Request-ID": "bad id\twith junk"})
    assert hostile.headers["x-request-id"] != "bad id\twith junk"


async def test_metrics_are_exposed_for_prometheus(client: httpx.AsyncClient) -> None:
    await client.get("/api/policies")
    body = (await client.get("/metrics")).text
    assert "renewals_requests_total" in body and 'path="/api/policies"' in body


async def test_openapi_lists_every_endpoint_with_schemas(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/schema/openapi.json")).json()
    operations = {(path, method) for path, item in document["paths"].items() for method in item}
    assert operations >= EXPECTED_OPERATIONS
    for path, method in EXPECTED_OPERATIONS:
        responses = document["paths"][path][method]["responses"]
        success = next(r for code, r in responses.items() if code.startswith("2"))
        assert "content" in success, (path, method)
    for path, method in EXPECTED_OPERATIONS:
        if path.startswith("/api/") and path != "/api/policy-types":
            responses = document["paths"][path][method]["responses"]
            expected = "404" if method == "get" and path.endswith("}") else "422"
            body = responses[expected]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/ErrorBody"}, (path, method)
    schemas = document["components"]["schemas"]
    assert schemas["PolicyView"]["properties"]["id"]["type"] == "string"
    assert {"NewPolicy", "PolicyChanges", "NewCustomer", "CaseView"} <= set(schemas)
    docs = await client.get("/api/docs")
    assert docs.status_code == 200 and "openapi.json" in docs.text
