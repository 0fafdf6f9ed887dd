"""arq tasks: each is one service call; transient failures become arq retries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypedDict, TypeVar

import structlog
from arq import Retry
from sqlalchemy.exc import DBAPIError, OperationalError

from application.ports.email import EmailUnavailable
from entrypoints.container import Application
from entrypoints.identity_container import IdentityServices
from entrypoints.uploads_container import UploadsServices

__all__ = [
    "JobContext", "ingest_upload", "open_due_renewal_cases", "open_renewal_case_for_policy", "relay_outbox",
    "resume_stalled_uploads", "send_password_link",
]

P = ParamSpec("P")
R = TypeVar("R")
log = structlog.get_logger("worker")


class JobContext(TypedDict, total=False):
    """App-scoped objects only: never a session (pitfall 7)."""

    app: Application
    identity: IdentityServices
    uploads: UploadsServices
    job_id: str
    job_try: int


def _task(fn: Callable[..., Awaitable[R]]) -> Any:
    """Bind job id and try to the logs; turn a lost database connection into a deferred retry."""

    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> R:
        structlog.contextvars.bind_contextvars(job_id=ctx.get("job_id"), job_try=ctx.get("job_try"))
        try:
            return await fn(ctx, *args, **kwargs)
        except (OperationalError, ConnectionError, OSError, EmailUnavailable) as exc:
            log.warning("job_transient_failure", error=type(exc).__name__)
            raise Retry(defer=min(60, 2 ** int(ctx.get("job_try", 1)))) from exc
        except DBAPIError as exc:
            if getattr(exc, "connection_invalidated", False):
                raise Retry(defer=5) from exc
            raise
        finally:
            structlog.contextvars.unbind_contextvars("job_id", "job_try")

    run.__name__ = fn.__name__
    run.__qualname__ = fn.__qualname__
    return run


@_task
async def relay_outbox(ctx: dict[str, Any]) -> int:
    return int(await ctx["app"].outbox_relay().relay_pending())


@_task
async def open_due_renewal_cases(ctx: dict[str, Any]) -> int:
    return int(await ctx["app"].cases().open_due_cases())


@_task
async def open_renewal_case_for_policy(ctx: dict[str, Any], policy_id: int) -> int:
    return int(await ctx["app"].cases().open_case_for_policy(int(policy_id)))


@_task
async def send_password_link(ctx: dict[str, Any], email: str | None = None, user_id: int | None = None,
                             invitation: bool = False) -> bool:
    """Email a password reset or invitation link; an unknown address sends nothing (the caller saw 202)."""
    return bool(await ctx["identity"].passwords().send_link(email=email, user_id=user_id, invitation=invitation))


@_task
async def ingest_upload(ctx: dict[str, Any], upload_id: int) -> str:
    """Import (or resume) one upload; "busy" when another worker is running it."""
    return str(await ctx["uploads"].ingestion().ingest(int(upload_id)))


@_task
async def resume_stalled_uploads(ctx: dict[str, Any]) -> int:
    """Queue again the uploads whose worker died mid-import (no batch committed for a minute)."""
    return int(await ctx["uploads"].ingestion().resume_stalled())
