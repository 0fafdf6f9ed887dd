"""WebSocket /api/ws: the signed-in user's real-time events (upload progress, later notifications).

Browsers cannot set headers on a WebSocket, so the access token may come as the `token` query parameter;
the global guard checks it like a bearer token before the socket is accepted. Messages are
`{"type": "upload.progress", "data": {...}}` (see docs/contexts/uploads.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from application.identity.principal import Principal
from entrypoints.container import AppContainer
from entrypoints.http.guard import signed_in

__all__ = ["user_events_socket"]


@websocket("/api/ws", opt=signed_in())
async def user_events_socket(socket: WebSocket[Any, Any, Any]) -> None:
    container: AppContainer = socket.app.state.container
    principal: Principal = socket.state.principal
    events = container.outside.user_events()
    await socket.accept()
    stream = events.subscribe(principal.user_id)

    async def forward() -> None:
        async for event in stream:
            await socket.send_json(event)

    async def until_closed() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await socket.receive_data(mode="text")  # clients may ping; anything else is ignored

    tasks = [asyncio.create_task(forward()), asyncio.create_task(until_closed())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await stream.aclose()
