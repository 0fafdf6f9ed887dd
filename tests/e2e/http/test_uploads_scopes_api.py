"""Who sees which upload: `uploads:read` at scope own (renewals specialists), branch (managers) and all; a role
without it gets 403 on every upload route, and an upload out of scope is a 404 (never a 403)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from adapters.system.clock import FixedClock
from entrypoints.container import AppContainer
from tests.identity_support import EVERYTHING_ROLE, add_branch, bearer, make_user, token_for
from tests.upload_books import book_bytes, policy_book, post_book, upload_container

Client = httpx.AsyncClient


@pytest.fixture
async def sql_container(migrated_database: str, clock: FixedClock, tmp_path: Path) -> AsyncIterator[AppContainer]:
    async with upload_container(tmp_path, clock) as container:
        yield container


@dataclass
class World:
    headers: dict[str, dict[str, str]]  # caller -> Authorization header
    uploads: dict[str, str]  # uploader -> the public id of their upload


async def signed_in(container: AppContainer, role: str, branch_id: int | None) -> dict[str, str]:
    return bearer(await token_for(container, await make_user(container, role, branch_id=branch_id)))


@pytest.fixture
async def world(anonymous: Client, sql_container: AppContainer) -> World:
    """Branches B1 and B2; specialists S1 and S2 in B1 and S3 in B2 each upload a book; managers M1 (B1) and M2
    (B2), an admin-like caller and a viewer."""
    b1, b2 = await add_branch(sql_container, "B1"), await add_branch(sql_container, "B2")
    headers = {
        "S1": await signed_in(sql_container, "renewals_specialist", b1),
        "S2": await signed_in(sql_container, "renewals_specialist", b1),
        "S3": await signed_in(sql_container, "renewals_specialist", b2),
        "M1": await signed_in(sql_container, "manager", b1),
        "M2": await signed_in(sql_container, "manager", b2),
        "ALL": await signed_in(sql_container, EVERYTHING_ROLE, None),
        "V": await signed_in(sql_container, "viewer", None),
    }
    uploads = {}
    for name in ("S1", "S2", "S3"):
        response = await post_book(anonymous, book_bytes(policy_book(5, prefix=name), "csv"), f"{name}.csv",
                                   headers=headers[name])
        assert response.status_code == 202, response.text
        uploads[name] = response.json()["data"]["uploadId"]
        number = int(uploads[name].removeprefix("upload-"))
        assert await sql_container.uploads.ingestion().ingest(number) == "completed"
    return World(headers=headers, uploads=uploads)


SEES = {"S1": {"S1"}, "S2": {"S2"}, "S3": {"S3"}, "M1": {"S1", "S2"}, "M2": {"S3"}, "ALL": {"S1", "S2", "S3"}}
READS = ("/api/upload/status/{id}", "/api/upload/download/{id}", "/api/upload/{id}/errors",
         "/api/upload/{id}/errors?format=csv")


@pytest.mark.parametrize("caller", list(SEES))
async def test_each_caller_sees_the_uploads_of_their_scope_and_no_other(anonymous: Client, world: World,
                                                                       caller: str) -> None:
    headers = world.headers[caller]
    history = await anonymous.get("/api/upload/history", headers=headers)
    assert history.status_code == 200
    listed = {u["uploadId"] for u in history.json()["data"]["uploads"]}
    assert listed == {world.uploads[name] for name in SEES[caller]}
    assert history.json()["data"]["pagination"]["total"] == len(SEES[caller])
    for uploader, upload_id in world.uploads.items():
        expected = 200 if uploader in SEES[caller] else 404
        for path in READS:
            response = await anonymous.get(path.format(id=upload_id), headers=headers)
            assert response.status_code == expected, (caller, uploader, path)
        if expected == 404:
            assert response.json()["error"]["code"] == "not_found"
            cancel = await anonymous.post(f"/api/upload/{upload_id}/cancel", headers=headers)
            assert cancel.status_code == 404, (caller, uploader)


async def test_a_viewer_without_uploads_read_is_refused_everywhere(anonymous: Client, world: World) -> None:
    headers = world.headers["V"]
    upload_id = world.uploads["S1"]
    for path in (*READS, "/api/upload/history", "/api/upload/template"):
        response = await anonymous.get(path.format(id=upload_id), headers=headers)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "forbidden"
    refused = await post_book(anonymous, b"first_name\nAsha\n", "x.csv", headers=headers)
    assert refused.status_code == 403
    assert (await anonymous.post(f"/api/upload/{upload_id}/cancel", headers=headers)).status_code == 403
    assert (await anonymous.get("/api/upload/history")).status_code == 401
