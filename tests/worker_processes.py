"""Real `python -m entrypoints.cli worker` processes for the crash tests: started with a clean environment and a
log file each, polled with their logs on failure, killed with SIGKILL or stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool

from tests.conftest import ROOT, TEST_DATABASE_URL, TEST_REDIS_URL

__all__ = ["WorkerProcess", "flushed_arq_redis", "start_worker", "stopped_at_exit", "wait_for", "worker_env"]

T = TypeVar("T")

_PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")  # nothing else leaks in from the shell


@dataclass
class WorkerProcess:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    killed: bool = False  # by the test, on purpose

    def kill_hard(self) -> None:
        self.killed = True
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=15)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


def worker_env(tmp_path: Path, settings: dict[str, str]) -> dict[str, str]:
    """The test database and Redis, local storage under tmp_path, and the given settings on top."""
    env = {key: os.environ[key] for key in _PASSED_ON if key in os.environ}
    env.update({
        "APP_ENV": "test", "LOG_LEVEL": "INFO", "DATABASE_URL": TEST_DATABASE_URL, "REDIS_URL": TEST_REDIS_URL,
        "STORAGE_BACKEND": "local", "LOCAL_STORAGE_DIR": str(tmp_path / "files"), "DATA_DIR": str(tmp_path / "data"),
        **settings,
        "PYTHONPATH": str(ROOT / "src"), "PYTHONUNBUFFERED": "1",
    })
    return env


def start_worker(name: str, tmp_path: Path, settings: dict[str, str]) -> WorkerProcess:
    """A worker writing its output to `tmp_path/<name>.log`."""
    log = tmp_path / f"{name}.log"
    with log.open("wb") as handle:
        proc = subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "worker"], cwd=ROOT,
                                env=worker_env(tmp_path, settings), stdout=handle, stderr=subprocess.STDOUT)
    return WorkerProcess(name, proc, log)


@contextmanager
def stopped_at_exit() -> Iterator[list[WorkerProcess]]:
    """A list to put the started workers in; each still running is stopped at exit."""
    started: list[WorkerProcess] = []
    try:
        yield started
    finally:
        for worker in started:
            worker.stop()


async def wait_for(what: str, probe: Callable[[], Awaitable[T | None]], *, within: float,
                   workers: list[WorkerProcess], poll: float = 0.01) -> T:
    """Poll `probe` until it answers something; on timeout (or a worker dying) fail with the workers' logs."""
    deadline = time.monotonic() + within
    while True:
        found = await probe()
        if found is not None:
            return found
        dead = [w for w in workers if not w.killed and w.proc.poll() is not None]
        if dead or time.monotonic() > deadline:
            logs = "\n".join(f"--- {w.name} (exit {w.proc.poll()}) ---\n{w.output()[-20_000:]}" for w in workers)
            reason = f"{', '.join(w.name for w in dead)} exited" if dead else f"timed out after {within:.0f} s"
            pytest.fail(f"waiting for {what}: {reason}\n{logs}")
        await asyncio.sleep(poll)


@asynccontextmanager
async def flushed_arq_redis() -> AsyncIterator[ArqRedis]:
    """An arq pool on the test Redis database, flushed before and after."""
    pool = await create_pool(RedisSettings.from_dsn(TEST_REDIS_URL))
    await pool.flushdb()
    try:
        yield pool
        await pool.flushdb()
    finally:
        await pool.aclose()
