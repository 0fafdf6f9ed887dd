"""Process-level tuning shared by the API and the worker."""

from __future__ import annotations

import gc
import sys

__all__ = ["WORKER_SWITCH_INTERVAL", "freeze_startup_objects", "hand_over_the_gil_sooner"]

WORKER_SWITCH_INTERVAL = 0.0005  # seconds; CPython's default is 0.005


def freeze_startup_objects() -> None:
    """Move everything alive after start-up out of the collector's reach.

    Modules, the container and the OpenAPI model never die; without this each full collection walks
    them again, pausing requests for around 100 ms on a warm process.
    """
    gc.collect()
    gc.freeze()
    # a request allocates a few thousand objects: collect the young generation less often
    gc.set_threshold(20_000, 20, 20)


def hand_over_the_gil_sooner() -> None:
    """Let a thread waiting for the GIL have it after 0.5 ms instead of CPython's 5 ms (the worker only).

    An upload's rows are read and validated in a thread (pure Python, always ready to run) while the event
    loop writes the previous batch to PostgreSQL. Every time the loop wakes for a reply it waits for the GIL
    up to the switch interval, and a batch takes dozens of replies: at 5 ms a 100,000-row csv took 13.6 s,
    no faster than reading and writing in turn; at 1 ms 10.3 s, at 0.5 ms 10.0 s (benchmarks/bench_uploads.py,
    2 CPUs). Forced switches between two busy threads cost a few microseconds each, so a shorter interval
    is harmless when only one thread runs.
    """
    sys.setswitchinterval(WORKER_SWITCH_INTERVAL)
