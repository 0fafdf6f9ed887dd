"""Benchmark the shared rate limiter: worker processes draw from Redis token buckets and send to a fake provider.

Run from the repository root:  PYTHONPATH=src .venv/bin/python benchmarks/bench_rate_limiter.py
Env: BENCH_SECONDS (5), BENCH_PROCESSES (3), BENCH_REDIS_URL (redis://127.0.0.1:6379/13). Keys go under a
random `bench:ratelimit:<hex>:` prefix and are deleted at the end, also on Ctrl-C or an error.

Channels, with the limits configured for them (as MessagingConfig configures them: burst 1):
  sms       10 long codes, one bucket each, RateLimit(rate=1, burst=1): 10/s in all. A long code sends one
            message segment per second: http://www.twilio.com/help/faq/sms/how-quickly-can-i-send-sms-messages
  whatsapp  one business phone number, RateLimit(rate=80, burst=1). Cloud API's default throughput is 80
            messages per second (error 130429 beyond it):
            https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput
  email     one SES account, RateLimit(rate=14, burst=1). 14/s was SES's usual starting production rate; the
            quotas page now says the rate depends on the account: https://docs.aws.amazon.com/ses/latest/dg/quotas.html

BENCH_PROCESSES processes (multiprocessing, spawn: each its own interpreter, event loop and Redis client) wait
on a barrier, then for BENCH_SECONDS run senders that loop `acquire` then "send" (record time.monotonic(),
CLOCK_MONOTONIC, one clock for every process on the host): per process one sender per long code, 10 for
WhatsApp, 4 for e-mail. The parent merges the sends and plays the fake provider: a call is answered 429 when
more than rate + burst calls of its bucket (the limiter's promise) landed within the last second.

Printed per channel: sends; the sustained rate, (sends - burst) / (last send - first send) summed over the
channel's buckets, against the configured limit; the most sends in any 1-second window, in one bucket and in
the whole channel, against rate + burst; 429s. Goal: sustained >= 90 % of the limit and no 429.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src")]

from redis import Redis as SyncRedis  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from adapters.redis.token_bucket import RedisTokenBucket  # noqa: E402
from application.ports.rate_limits import RateLimit  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
PROCESSES = int(os.environ.get("BENCH_PROCESSES", "3"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


@dataclass(frozen=True)
class Channel:
    name: str
    buckets: tuple[str, ...]
    limit: RateLimit
    senders_per_bucket: int  # in each process


CHANNELS = (
    Channel("sms", tuple(f"sms:longcode:{n}" for n in range(10)), RateLimit(rate=1, burst=1), 1),
    Channel("whatsapp", ("whatsapp:phone:1",), RateLimit(rate=80, burst=1), 10),
    Channel("email", ("email:ses",), RateLimit(rate=14, burst=1), 4),
)


# --- in each worker process ------------------------------------------------------------------------------

async def send_until_deadline(prefix: str, barrier: Barrier) -> dict[str, list[float]]:
    """Run every channel's senders for SECONDS; the send times per bucket."""
    client = Redis.from_url(REDIS_URL)
    await client.ping()
    limiter = RedisTokenBucket(client, key_prefix=prefix)
    sent: dict[str, list[float]] = defaultdict(list)

    async def sender(bucket: str, limit: RateLimit) -> None:
        while True:
            if await limiter.acquire(bucket, limit):
                sent[bucket].append(time.monotonic())  # the fake provider's call

    await asyncio.to_thread(barrier.wait)
    senders = [sender(bucket, channel.limit)
               for channel in CHANNELS for bucket in channel.buckets for _ in range(channel.senders_per_bucket)]
    try:
        await asyncio.wait_for(asyncio.gather(*senders), timeout=SECONDS)
    except TimeoutError:
        pass  # the deadline: senders still waiting for their turn are cancelled and send nothing
    finally:
        await client.aclose()
    return dict(sent)


def worker(prefix: str, barrier: Barrier, results: Queue[dict[str, list[float]]]) -> None:
    results.put(asyncio.run(send_until_deadline(prefix, barrier)))


# --- in the parent ---------------------------------------------------------------------------------------

def most_in_one_second(times: list[float]) -> int:
    """The largest number of `times` in any window [t, t + 1 s)."""
    ordered, most, start = sorted(times), 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def too_many_requests(times: list[float], limit: int) -> int:
    """How many calls a provider answers 429: those with more than `limit` calls in the second up to them."""
    return sum(1 for count in _counts_up_to_each(sorted(times)) if count > limit)


def _counts_up_to_each(ordered: list[float]) -> list[int]:
    counts, start = [], 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - 1.0:
            start += 1
        counts.append(end - start + 1)
    return counts


def sustained_rate(times: list[float], burst: int) -> float:
    """Sends per second after the initial burst: (sends - burst) / (last - first)."""
    if len(times) <= burst or max(times) == min(times):
        return 0.0
    return (len(times) - burst) / (max(times) - min(times))


def run_processes(prefix: str) -> dict[str, list[float]]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results: Queue[dict[str, list[float]]] = context.Queue()
    processes = [context.Process(target=worker, args=(prefix, barrier, results)) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    try:
        merged: dict[str, list[float]] = defaultdict(list)
        for _ in processes:
            for bucket, times in results.get(timeout=SECONDS + 60).items():
                merged[bucket].extend(times)
        for process in processes:
            process.join(timeout=10)
        return merged
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()


def delete_keys(prefix: str) -> None:
    client = SyncRedis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def main() -> None:
    prefix = f"bench:ratelimit:{uuid.uuid4().hex}:"
    print(f"{PROCESSES} processes x {SECONDS:g} s, Redis {REDIS_URL}, Python {sys.version.split()[0]}")
    try:
        sent = run_processes(prefix)
    finally:
        delete_keys(prefix)
    print(f"{'channel':9} {'buckets':>7} {'limit each':>14} {'senders':>7} {'sends':>6} {'sustained/s':>11} "
          f"{'limit/s':>7} {'% limit':>7} {'max 1s bucket':>13} {'max 1s all':>10} {'429s':>5}  goal")
    for channel in CHANNELS:
        limit, buckets = channel.limit, channel.buckets
        bound = int(limit.rate) + limit.burst
        every = [at for bucket in buckets for at in sent.get(bucket, [])]
        sustained = sum(sustained_rate(sent.get(bucket, []), limit.burst) for bucket in buckets)
        configured = limit.rate * len(buckets)
        worst_bucket = max(most_in_one_second(sent.get(bucket, [])) for bucket in buckets)
        refused = sum(too_many_requests(sent.get(bucket, []), bound) for bucket in buckets)
        goal = "PASS" if sustained >= 0.9 * configured and refused == 0 else "FAIL"
        print(f"{channel.name:9} {len(buckets):>7} {f'{limit.rate:g}/s burst {limit.burst}':>14} "
              f"{len(buckets) * channel.senders_per_bucket * PROCESSES:>7} {len(every):>6} {sustained:>11.2f} "
              f"{configured:>7g} {sustained / configured:>7.1%} {f'{worst_bucket} / {bound}':>13} "
              f"{f'{most_in_one_second(every)} / {bound * len(buckets)}':>10} {refused:>5}  {goal}")


if __name__ == "__main__":
    main()
