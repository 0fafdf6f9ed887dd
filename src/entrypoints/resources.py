"""Opens the async clients once per process (API or worker) and hands them to the container."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import aioboto3
import httpx
from aiobotocore.config import AioConfig  # type: ignore[import-untyped]
from arq.connections import ArqRedis
from dependency_injector import providers
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.asyncpg.read_pool import AsyncpgReadPool
from entrypoints.container import AppContainer

__all__ = ["Resources", "open_resources"]


@dataclass
class Resources:
    engine: AsyncEngine | None
    redis: ArqRedis | None

    async def ping_database(self) -> None:
        if self.engine is None:
            return
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def ping_redis(self) -> None:
        if self.redis is None:
            return
        await self.redis.ping()


@asynccontextmanager
async def open_resources(container: AppContainer) -> AsyncIterator[Resources]:
    """Connect the Redis/arq pool and dispose the engine at exit; providers stay synchronous."""
    settings = container.settings
    async with AsyncExitStack() as stack:
        pool: ArqRedis | None = None
        if settings.redis_url:
            # connects lazily: the API starts while Redis is down and /health/ready says so
            pool = ArqRedis.from_url(settings.redis_url, socket_connect_timeout=2)
            stack.push_async_callback(pool.aclose)
            container.outside.arq_pool.override(providers.Object(pool))
        if settings.email_provider == "ses":
            session = aioboto3.Session()
            ses = await stack.enter_async_context(session.client(  # one client per process
                "sesv2", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url,
                aws_access_key_id=settings.aws_access_key_id, aws_secret_access_key=settings.aws_secret_access_key))
            container.outside.ses_client.override(providers.Object(ses))
        if settings.storage_backend == "s3":
            # path-style URLs for a custom endpoint (LocalStack, MinIO): bucket sub-domains rarely resolve there
            config = AioConfig(s3={"addressing_style": "path"}) if settings.aws_endpoint_url else None
            s3 = await stack.enter_async_context(aioboto3.Session().client(  # one client per process
                "s3", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url, config=config,
                aws_access_key_id=settings.aws_access_key_id, aws_secret_access_key=settings.aws_secret_access_key))
            container.outside.s3_client.override(providers.Object(s3))
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0)))
        container.messaging_providers.http_client.override(providers.Object(http))
        if settings.sms_provider == "sns":
            sns = await stack.enter_async_context(aioboto3.Session().client(  # one client per process
                "sns", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url,
                aws_access_key_id=settings.aws_access_key_id, aws_secret_access_key=settings.aws_secret_access_key))
            container.messaging_providers.sns_client.override(providers.Object(sns))
        engine: AsyncEngine | None = container.adapters.engine()
        if engine is not None:
            stack.push_async_callback(engine.dispose)
        read_pool: AsyncpgReadPool | None = container.adapters.read_pool()
        if read_pool is not None:
            stack.push_async_callback(read_pool.close)
        yield Resources(engine=engine, redis=pool)
