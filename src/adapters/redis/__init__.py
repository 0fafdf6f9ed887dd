"""Adapters on Redis itself (redis.asyncio), beside arq's job queue: the login throttle."""
