"""Closed-loop HTTP load against 127.0.0.1: wrk when installed, else httpx in its own process.

`measure(url, conns, warmup, seconds)` returns {tool, requests, seconds, rps, p50_ms, p99_ms, errors,
statuses, sample}; every non-2xx answer and every socket error counts as an error.
Run as `python _load.py URL CONNS WARMUP SECONDS` it is the httpx load process (prints JSON).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

WRK_SCRIPT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {}; sample = "" end
function response(status, headers, body)
  if status < 200 or status > 299 then
    statuses[status] = (statuses[status] or 0) + 1
    if sample == "" then sample = string.sub(body or "", 1, 300) end
  end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %.3f %.3f %d\n", summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout))
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do io.write(string.format("STATUS %d %d\n", code, n)) end
    local s = t:get("sample")
    if s ~= "" then io.write("SAMPLE " .. string.gsub(s, "\n", " ") .. "\n") end
  end
end
"""


def _local_only(url: str) -> None:
    if urlsplit(url).hostname != "127.0.0.1":
        raise ValueError(f"load generation only targets 127.0.0.1, not {url}")


def measure(url: str, conns: int, warmup: float, seconds: float, token: str = "") -> dict[str, Any]:
    """Load `url` with `conns` connections; `token` is sent as a bearer token."""
    _local_only(url)
    if shutil.which("wrk"):
        return _wrk(url, conns, warmup, seconds, token)
    out = subprocess.run([sys.executable, os.path.abspath(__file__), url, str(conns), str(warmup), str(seconds),
                          token],
                         capture_output=True, text=True, timeout=warmup + seconds + 60, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _wrk(url: str, conns: int, warmup: float, seconds: float, token: str) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_SCRIPT)
    try:
        base = ["wrk", "-t1", f"-c{conns}", "--timeout", "10s", "-s", f.name]
        if token:
            base += ["-H", f"Authorization: Bearer {token}"]
        if warmup > 0:
            subprocess.run([*base, f"-d{max(1, round(warmup))}s", url], capture_output=True, check=True,
                           timeout=warmup + 30)
        out = subprocess.run([*base, f"-d{max(1, round(seconds))}s", url], capture_output=True, text=True,
                             check=True, timeout=seconds + 30).stdout
    finally:
        os.unlink(f.name)
    statuses: Counter[int] = Counter()
    result: dict[str, Any] = {"tool": "wrk", "sample": ""}
    for line in out.splitlines():
        parts = line.split(" ")
        if parts[0] == "BENCH":
            result["requests"], result["seconds"] = int(parts[1]), int(parts[2]) / 1e6
            result["p50_ms"], result["p99_ms"] = float(parts[3]), float(parts[4])
            result["socket_errors"] = int(parts[5])
        elif parts[0] == "STATUS":
            statuses[int(parts[1])] += int(parts[2])
        elif parts[0] == "SAMPLE" and not result["sample"]:
            result["sample"] = line[7:]
    if "requests" not in result:
        raise RuntimeError(f"could not parse wrk output:\n{out}")
    result["rps"] = result["requests"] / result["seconds"]
    result["statuses"] = {str(k): v for k, v in statuses.items()}
    result["errors"] = sum(statuses.values()) + result.pop("socket_errors")
    return result


async def _httpx(url: str, conns: int, warmup: float, seconds: float, token: str = "") -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    failures = [0]
    sample = [""]
    limits = httpx.Limits(max_connections=conns, max_keepalive_connections=conns)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(http1=True, http2=False, limits=limits, timeout=10.0, headers=headers) as client:

        async def worker(until: float, record: bool) -> None:
            while (t0 := time.perf_counter()) < until:
                try:
                    response = await client.get(url)
                except httpx.HTTPError as exc:
                    failures[0] += record
                    sample[0] = sample[0] or repr(exc)
                    continue
                if record:
                    latencies.append(time.perf_counter() - t0)
                    if not 200 <= response.status_code < 300:
                        statuses[str(response.status_code)] += 1
                        sample[0] = sample[0] or response.text[:300]

        await asyncio.gather(*(worker(time.perf_counter() + warmup, False) for _ in range(conns)))
        start = time.perf_counter()
        await asyncio.gather(*(worker(start + seconds, True) for _ in range(conns)))
        elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0.0

    return {"tool": "httpx", "requests": len(latencies), "seconds": elapsed, "rps": len(latencies) / elapsed,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "errors": sum(statuses.values()) + failures[0],
            "statuses": dict(statuses), "sample": sample[0]}


if __name__ == "__main__":
    target, n, warm, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    bearer_token = sys.argv[5] if len(sys.argv) > 5 else ""
    _local_only(target)
    run: Any = asyncio.run
    try:
        import uvloop
        run = uvloop.run
    except ImportError:
        pass
    print(json.dumps(run(_httpx(target, n, warm, secs, bearer_token))))
