"""The customers, policies and cases endpoints over HTTP, on the real stack."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from adapters.sqlalchemy.tables.policies import customers, policies
from adapters.sqlalchemy.tables.shared import audit_log
from entrypoints.container import AppContainer
from tests.e2e.http.conftest import make_customer, make_policy

Client = httpx.AsyncClient


async def test_customer_is_created_read_and_patched_with_public_ids(client: Client) -> None:
    created = await make_customer(client)
    assert created["id"] == "customer-1" and created["customerCode"] == "CUST-000001"
    assert created["phone"] == "+919876543210"
    for ident in ("customer-1", "1"):
        got = await client.get(f"/api/customers/{ident}")
        assert got.status_code == 200 and got.json() == {"success": True, "data": created}
    patched = await client.patch("/api/customers/customer-1", json={"lastName": "Iyer", "email": None})
    assert patched.status_code == 200
    assert (patched.json()["data"]["lastName"], patched.json()["data"]["email"]) == ("Iyer", None)


async def test_money_is_an_exact_json_number_and_dates_are_iso(client: Client) -> None:
    customer = await make_customer(client)
    policy = await make_policy(client, customer["id"], premiumAmount=1234.5)
    assert policy["premiumAmount"] == 1234.5 and policy["currency"] == "INR"
    raw = (await client.get(f"/api/policies/{policy['id']}")).text
    assert '"premiumAmount":1234.50' in raw and '"renewalDate":"2026-12-01"' in raw
    assert policy["createdAt"].endswith("Z")


async def test_bad_input_gets_clear_4xx_and_writes_nothing(client: Client, sql_container: AppContainer) -> None:
    malformed = await client.post("/api/customers", content=b'{"firstName": ',
                                  headers={"content-type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "malformed_json"
    wrong_type = await client.post("/api/customers", json={"firstName": 5, "lastName": "X"})
    assert wrong_type.status_code == 422
    assert wrong_type.json()["error"]["details"][0]["field"] == "firstName"
    invalid = await client.post("/api/customers", json={"firstName": " ", "lastName": "X", "email": "nope",
                                                        "phone": "12"})
    assert invalid.status_code == 422
    assert {d["field"] for d in invalid.json()["error"]["details"]} == {"firstName", "email", "phone"}
    unknown = await client.post("/api/customers", json={"firstName": "A", "lastName": "B", "shoeSize": 9})
    assert unknown.status_code == 422
    customer = await make_customer(client)
    too_precise = await client.post("/api/policies", json={
        "customerId": customer["id"], "policyType": "motor", "premiumAmount": 10.123,
        "startDate": "2025-01-01", "endDate": "2024-01-01"})
    assert too_precise.status_code == 422
    assert {d["field"] for d in too_precise.json()["error"]["details"]} == {"premiumAmount", "endDate"}
    engine = sql_container.adapters.engine()
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(policies)) == 0
        assert await conn.scalar(select(func.count()).select_from(customers)) == 1


async def test_unknown_or_malformed_ids_are_404_and_duplicates_409(client: Client) -> None:
    for path in ("/api/policies/policy-999", "/api/policies/policy-abc", "/api/policies/-3",
                 "/api/cases/case-1", "/api/customers/99999999999999", "/api/nowhere"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    customer = await make_customer(client, customerCode="VIP-7")
    duplicate = await client.post("/api/customers", json={"firstName": "B", "lastName": "C", "customerCode": "vip-7"})
    assert duplicate.status_code == 409
    taken = {"field": "customerCode", "message": "customerCode is already taken"}
    assert duplicate.json()["error"]["details"] == [taken]
    await make_policy(client, customer["id"], policyNumber="P-1")
    again = await client.post("/api/policies", json={"customerId": customer["id"], "policyType": "motor",
                                                     "premiumAmount": 1, "startDate": "2025-01-01",
                                                     "endDate": "2026-01-01", "policyNumber": "P-1"})
    assert again.status_code == 409


async def test_policy_list_paginates_sorts_and_filters(client: Client) -> None:
    asha = await make_customer(client)
    ravi = await make_customer(client, firstName="Ravi", lastName="Menon", email="ravi@example.in")
    for i in range(5):
        await make_policy(client, (asha if i % 2 else ravi)["id"], premiumAmount=1000 + i,
                          policyType="health" if i < 2 else "motor", endDate=f"2027-01-0{i + 1}")
    page = (await client.get("/api/policies?limit=2&page=2&sort=-premiumAmount")).json()["data"]
    assert [p["premiumAmount"] for p in page["policies"]] == [1002, 1001]
    assert page["pagination"] == {"page": 2, "limit": 2, "total": 5, "totalPages": 3, "totalIsEstimate": False}
    filtered = (await client.get("/api/policies?policyType=health&status=active,pending")).json()["data"]
    assert filtered["pagination"]["total"] == 2
    ranged = (await client.get("/api/policies?renewalFrom=2027-01-02&renewalTo=2027-01-03")).json()["data"]
    assert ranged["pagination"]["total"] == 2
    searched = (await client.get("/api/policies?q=ravi")).json()["data"]
    assert {p["customerName"] for p in searched["policies"]} == {"Ravi Menon"}
    by_customer = (await client.get(f"/api/policies?customer={asha['id']}")).json()["data"]
    assert by_customer["pagination"]["total"] == 2
    for bad in ("sort=password", "limit=101", "page=0", "status=sleeping", "renewalFrom=yesterday", "branch=x"):
        response = await client.get(f"/api/policies?{bad}")
        assert response.status_code == 422, bad


async def test_due_policy_gets_its_case_and_cases_list_filters(client: Client, sql_container: AppContainer) -> None:
    customer = await make_customer(client)
    due = await make_policy(client, customer["id"], endDate="2026-12-05", premiumAmount=80000)
    await make_policy(client, customer["id"], endDate="2027-06-01")
    assert await sql_container.application.outbox_relay().relay_pending() == 2  # one job per issued policy
    assert await sql_container.application.cases().open_due_cases() == 1
    listed = (await client.get("/api/cases?status=new&priority=urgent")).json()["data"]
    assert listed["pagination"]["total"] == 1
    case = listed["cases"][0]
    assert (case["policyId"], case["status"], case["renewalAmount"]) == (due["id"], "new", 80000)
    assert case["caseNumber"].startswith("RC-2026-")
    detail = await client.get(f"/api/cases/{case['id']}")
    assert detail.json()["data"]["customerName"] == "Asha Rao"
    assert (await client.get("/api/cases?status=renewed")).json()["data"]["pagination"]["total"] == 0
    assert (await client.get(f"/api/cases?q={due['policyNumber']}")).json()["data"]["pagination"]["total"] == 1
    assert (await client.get("/api/cases?priority=whenever")).status_code == 422
    async with sql_container.adapters.engine().connect() as conn:
        actions = set((await conn.execute(select(audit_log.c.action))).scalars())
    assert {"policies.customer_registered", "policies.policy_issued", "policies.renewal_case_opened"} <= actions


async def test_policy_types_catalogue(client: Client) -> None:
    data = (await client.get("/api/policy-types")).json()["data"]
    assert "motor" in data["policyTypes"] and "personal_accident" in data["policyTypes"]
