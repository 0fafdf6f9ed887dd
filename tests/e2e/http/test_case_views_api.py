"""GET /api/cases/{id}/timeline and GET /api/cases/export over HTTP, on PostgreSQL, with scopes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import httpx
from openpyxl import load_workbook  # type: ignore[import-untyped, unused-ignore]
from sqlalchemy import insert

from adapters.sqlalchemy.tables.cases import case_events
from application.policies.case_export import COLUMNS
from application.policies.ports import CaseFilters
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING
from entrypoints.container import AppContainer
from tests.e2e.http.conftest import make_customer, make_policy
from tests.factories import set_case_owners
from tests.identity_support import bearer, make_user, token_for


async def _three_cases(client: httpx.AsyncClient, container: AppContainer) -> list[tuple[int, str]]:
    """Three open cases, in renewal-date order: (id, case number)."""
    customer = await make_customer(client)
    for end in ("2026-12-05", "2026-12-10", "2026-12-15"):
        await make_policy(client, customer["id"], startDate=end.replace("2026", "2025"), endDate=end)
    cases = container.application.cases()
    await cases.open_due_cases()
    views = (await cases.list(CaseFilters(), PageRequest(), EVERYTHING)).items
    return [(int(v.id), v.case_number) for v in views]


def _csv(response: httpx.Response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_export_is_its_own_route_not_a_case_id(client: httpx.AsyncClient, sql_container: AppContainer) -> None:
    cases = await _three_cases(client, sql_container)

    response = await client.get("/api/cases/export")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="renewal-cases-') and disposition.endswith('.csv"')
    rows = _csv(response)
    assert rows[0] == list(COLUMNS) and [r[0] for r in rows[1:]] == [number for _, number in cases]
    single = await client.get(f"/api/cases/case-{cases[0][0]}")
    assert single.status_code == 200 and single.json()["data"]["caseNumber"] == cases[0][1]


async def test_filters_apply_and_bad_ones_are_field_errors(client: httpx.AsyncClient,
                                                           sql_container: AppContainer) -> None:
    cases = await _three_cases(client, sql_container)
    response = await client.get("/api/cases/export", params={"renewalFrom": "2026-12-06", "status": "new"})
    assert [r[0] for r in _csv(response)[1:]] == [cases[1][1], cases[2][1]]
    assert _csv(await client.get("/api/cases/export", params={"q": cases[2][1]}))[1:][0][0] == cases[2][1]

    for params, field in (({"format": "docx"}, "format"), ({"status": "sleeping"}, "status"),
                          ({"assignee": "case-3"}, "assignee")):
        refused = await client.get("/api/cases/export", params=params)
        assert refused.status_code == 422, refused.text
        assert [d["field"] for d in refused.json()["error"]["details"]] == [field]


async def test_xlsx_and_pdf_downloads(client: httpx.AsyncClient, sql_container: AppContainer) -> None:
    cases = await _three_cases(client, sql_container)

    xlsx = await client.get("/api/cases/export", params={"format": "xlsx"})
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert xlsx.headers["content-disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(xlsx.content))["Cases"]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [number for _, number in cases]

    pdf = await client.get("/api/cases/export", params={"format": "PDF"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and pdf.headers["content-disposition"].endswith('.pdf"')


async def test_an_agent_exports_and_sees_timelines_of_own_cases_only(
        client: httpx.AsyncClient, anonymous: httpx.AsyncClient, sql_container: AppContainer) -> None:
    cases = await _three_cases(client, sql_container)
    agent = await make_user(sql_container, "agent")
    assert agent.id is not None
    (mine, mine_number), (escalated, escalated_number), (other, _) = cases
    await set_case_owners(sql_container, mine, assigned_to=agent.id)
    await set_case_owners(sql_container, escalated, escalated_to=agent.id)
    as_agent = bearer(await token_for(sql_container, agent))  # overrides the client's own token

    exported = await anonymous.get("/api/cases/export", headers=as_agent)
    assert [r[0] for r in _csv(exported)[1:]] == [mine_number, escalated_number]
    assert _csv(exported)[1][5] == f"{agent.first_name} {agent.last_name}"

    assert (await anonymous.get(f"/api/cases/case-{mine}/timeline", headers=as_agent)).status_code == 200
    hidden = await anonymous.get(f"/api/cases/case-{other}/timeline", headers=as_agent)
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"


async def test_timeline_over_http(client: httpx.AsyncClient, sql_container: AppContainer) -> None:
    (case_id, number), *_ = await _three_cases(client, sql_container)
    actor = await make_user(sql_container, "manager")
    engine = sql_container.adapters.engine()
    assert engine is not None and actor.id is not None
    async with engine.begin() as conn:
        await conn.execute(insert(case_events).values(
            case_id=case_id, kind="note_added", actor_id=actor.id, at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
            summary="Customer asked for a call on Monday", data={"noteId": 1}))

    response = await client.get(f"/api/cases/{case_id}/timeline")

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["caseId"] == f"case-{case_id}"
    assert data["case"]["caseNumber"] == number and data["case"]["status"] == "new"
    assert data["case"]["renewalAmount"] == 12500.5 and data["case"]["closedAt"] is None
    assert [h["type"] for h in data["history"]] == ["opened", "note_added"]
    note = data["history"][1]
    assert note == {"timestamp": "2026-12-01T09:30:00Z", "type": "note_added", "title": "Note added",
                    "description": "Customer asked for a call on Monday", "userId": f"user-{actor.id}",
                    "data": {"noteId": 1, "eventId": note["data"]["eventId"]}}
    assert (await client.get("/api/cases/case-999999/timeline")).status_code == 404
    assert (await client.get("/api/cases/nonsense/timeline")).status_code == 404


async def test_both_routes_need_a_signed_in_caller(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/api/cases/export")).status_code == 401
    assert (await anonymous.get("/api/cases/case-1/timeline")).status_code == 401
