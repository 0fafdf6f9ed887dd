"""Fixtures the campaign use-case tests share: a fixed clock at NOW, a memory store on it, and a factory of
in-memory campaigns units of work on that store. Import the fixtures into a test module to use them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from adapters.memory.campaigns_uow import InMemoryCampaignsUnitOfWork
from adapters.memory.store import MemoryStore
from adapters.system.clock import FixedClock
from application.shared.events import EventRouter

__all__ = ["NOW", "clock", "store", "uow"]

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def store(clock: FixedClock) -> MemoryStore:
    return MemoryStore(clock)


@pytest.fixture
def uow(store: MemoryStore) -> Callable[[], InMemoryCampaignsUnitOfWork]:
    return lambda: InMemoryCampaignsUnitOfWork(store, EventRouter())
