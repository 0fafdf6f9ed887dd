"""One uvicorn process (one worker) serving an app factory, as every HTTP benchmark starts it."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

import httpx
from _db import free_port

__all__ = ["UvicornServer"]


class UvicornServer:
    """`UvicornServer("module:factory", env=..., cwd=...)`; `wait_ready()`, `url(path)`, `stop()`."""

    def __init__(self, app: str, *, env: dict[str, str], cwd: Path) -> None:
        self.app, self.port = app, free_port()
        self.log: TextIO = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", "1", "--no-access-log", "--log-level", "warning"],
            cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, path: str = "/health/live", timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(self.url(path), timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.app} did not become ready:\n{self.tail()}")

    def tail(self) -> str:
        self.log.seek(0)
        return self.log.read()[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
