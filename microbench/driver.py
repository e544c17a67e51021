"""A bounded closed-loop async load driver for micro-benchmarks outside Locust.

Locust drives the application benchmarks; this drives a single server or
client library directly, where a Python coroutine per virtual client is enough.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from harness.stats import LatencySummary, summarize

Operation = Callable[[int], Awaitable[object]]


async def closed_loop(
    operations: list[Operation],
    *,
    duration_s: float,
    max_requests: int,
    warmup_s: float = 0.5,
) -> LatencySummary:
    """Run one coroutine per operation (a virtual client) until time or count runs out.

    Each operation is called with a running sequence number and awaited back to
    back; exceptions count as errors. Requests finished during the warm-up are
    not recorded.
    """
    latencies_s: list[float] = []
    errors = 0
    issued = 0
    start = time.perf_counter()
    record_from = start + warmup_s
    stop_at = record_from + duration_s

    async def client(operation: Operation) -> None:
        nonlocal errors, issued
        while issued < max_requests:
            sequence = issued
            issued += 1
            began = time.perf_counter()
            if began >= stop_at:
                return
            try:
                await operation(sequence)
            except Exception:
                if began >= record_from:
                    errors += 1
                continue
            if began >= record_from:
                latencies_s.append(time.perf_counter() - began)

    await asyncio.gather(*(client(op) for op in operations))
    measured_s = max(min(time.perf_counter(), stop_at) - record_from, 1e-9)
    return summarize(latencies_s, errors, measured_s)
