"""Liveness and readiness: ready means PostgreSQL and Redis both answer."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Controller, MediaType, Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec

from entrypoints.resources import Resources

__all__ = ["HealthController"]


class Check(msgspec.Struct):
    name: str
    ok: bool
    error: str | None = None


class Readiness(msgspec.Struct):
    status: str
    checks: list[Check]


async def _check(name: str, probe: Any) -> Check:
    try:
        await asyncio.wait_for(probe(), timeout=2.0)
    except Exception as exc:  # any failure means not ready
        return Check(name=name, ok=False, error=type(exc).__name__)
    return Check(name=name, ok=True)


class HealthController(Controller):
    path = "/health"
    tags = ["health"]
    opt = {"public": True}  # load balancers probe without a token
    include_in_schema = True

    @get("/live")
    async def live(self) -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @get("/ready", responses={503: ResponseSpec(data_container=Readiness, description="Not ready")})
    async def ready(self, state: State) -> Response[Readiness]:
        """PostgreSQL and Redis both answer; 503 with Retry-After otherwise."""
        resources: Resources = state.resources
        checks = list(await asyncio.gather(_check("postgres", resources.ping_database),
                                           _check("redis", resources.ping_redis)))
        ready = all(c.ok for c in checks)
        return Response(Readiness(status="ok" if ready else "unavailable", checks=checks),
                         status_code=200 if ready else 503, media_type=MediaType.JSON,
                         headers=None if ready else {"Retry-After": "5"})
