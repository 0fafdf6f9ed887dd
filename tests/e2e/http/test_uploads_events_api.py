"""Upload progress on the WebSocket /api/ws, through Redis, on the real app.

httpx cannot speak WebSocket over ASGI, and Litestar's test client runs the app in another thread and event
loop (where this test's Redis pool and engine cannot follow), so a small ASGI WebSocket client drives the app
in the test's own loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text

from adapters.system.clock import FixedClock
from entrypoints.container import AppContainer
from entrypoints.http.app import create_app
from entrypoints.resources import Resources, open_resources
from tests.identity_support import EVERYTHING_ROLE, bearer, make_user, token_for
from tests.upload_books import book_bytes, policy_book, post_book, upload_container

TIMEOUT = 10.0


class AsgiWebSocket:
    """One WebSocket connection to an ASGI app, in the current event loop."""

    def __init__(self, app: Litestar, path: str, query: str = "") -> None:
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        scope = {"type": "websocket", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "ws",
                 "server": ("testserver", 80), "client": ("127.0.0.1", 50000), "root_path": "", "path": path,
                 "raw_path": path.encode(), "query_string": query.encode(), "headers": [(b"host", b"testserver")],
                 "subprotocols": [], "extensions": {}}
        self._task = asyncio.create_task(app(scope, self._to_app.get, self._from_app.put))  # type: ignore[arg-type]

    async def connect(self) -> dict[str, Any]:
        """The app's answer to the handshake: websocket.accept, or websocket.close when refused."""
        await self._to_app.put({"type": "websocket.connect"})
        return await self._next()

    async def _next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self._from_app.get(), TIMEOUT)

    async def receive_json(self) -> dict[str, Any]:
        message = await self._next()
        assert message["type"] == "websocket.send", message
        payload: dict[str, Any] = json.loads(message.get("text") or message["bytes"])
        return payload

    async def close(self) -> None:
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._task, TIMEOUT)


@pytest.fixture
async def sql_container(migrated_database: str, clock: FixedClock, tmp_path: Path) -> AsyncIterator[AppContainer]:
    async with upload_container(tmp_path, clock, UPLOAD_BATCH_ROWS="500") as container:
        # Redis pub/sub channels ignore the db number: keep user ids apart from other test runs on this server
        async with container.adapters.engine().begin() as conn:
            await conn.execute(text("SELECT setval('users_id_seq', :n)"), {"n": random.randrange(10**6, 10**9)})
        yield container


@pytest.fixture
async def app(sql_container: AppContainer) -> AsyncIterator[Litestar]:
    app = create_app(sql_container)
    async with open_resources(sql_container) as resources:
        app.state.resources = resources
        yield app


async def test_the_uploader_receives_progress_and_completion(app: Litestar, sql_container: AppContainer) -> None:
    resources: Resources = app.state.resources
    assert resources.redis is not None
    user = await make_user(sql_container, EVERYTHING_ROLE)
    token = await token_for(sql_container, user)
    socket = AsgiWebSocket(app, "/api/ws", f"token={token}")
    assert (await socket.connect())["type"] == "websocket.accept"
    channel = f"events:user:{user.id}"
    for _ in range(200):  # the handler subscribes just after accepting
        counts = dict(await resources.redis.pubsub_numsub(channel))
        if counts.get(channel.encode()) or counts.get(channel):
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the socket never subscribed to the user's events")

    book = policy_book(3_000)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                 headers=bearer(token)) as client:
        response = await post_book(client, book_bytes(book, "csv"), "live.csv")
    assert response.status_code == 202
    upload_id = response.json()["data"]["uploadId"]
    assert await sql_container.uploads.ingestion().ingest(int(upload_id.removeprefix("upload-"))) == "completed"

    events: list[dict[str, Any]] = []
    while not events or events[-1]["type"] != "upload.completed":
        event = await socket.receive_json()
        if event["data"].get("uploadId") == upload_id:
            events.append(event)
    await socket.close()

    progress = [e["data"] for e in events if e["type"] == "upload.progress"]
    assert progress, events
    first = progress[0]
    assert {"processed", "succeeded", "failed", "total", "rate", "eta"} <= set(first)
    assert 0 < first["processed"] < 3_000 and first["processed"] % 500 == 0
    assert first["succeeded"] + first["failed"] == first["processed"] and first["total"] == 3_000
    assert first["rate"] > 0 and first["eta"] is not None and first["eta"] >= 0
    completed = events[-1]["data"]
    assert completed == {"uploadId": upload_id, "status": "completed", "processed": 3_000,
                         "succeeded": book.good, "failed": len(book.bad), "total": 3_000, "error": None}


@pytest.mark.parametrize("query", ["token=not-a-token", "", "token="])
async def test_a_socket_without_a_valid_token_is_refused(app: Litestar, query: str) -> None:
    socket = AsgiWebSocket(app, "/api/ws", query)
    answer = await socket.connect()
    assert answer["type"] == "websocket.close"
    assert 4000 <= answer["code"] < 5000
    assert answer["code"] == 4401, answer  # like a 401: sign in again
    assert "token" in answer["reason"]
