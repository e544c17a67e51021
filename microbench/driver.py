"""Bounded async load drivers for micro-benchmarks outside Locust: closed and open loop.

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


async def open_loop(
    operation: Operation,
    *,
    rate_per_s: float,
    duration_s: float,
    max_in_flight: int,
    drain_s: float,
) -> LatencySummary:
    """Start requests at a fixed rate whether or not earlier ones were answered (open model).

    Each latency runs from the request's due time, so a queue that builds up shows in it. A
    request due while `max_in_flight` are out is not sent and counts as an error (the
    generator's bound on sockets and memory), and so does one unanswered `drain_s` after the
    last was due. The rate is of successes over `duration_s` or, if later, until the last one.
    """
    interval_s = 1.0 / rate_per_s
    latencies_s: list[float] = []
    failed = shed = 0
    last_success = 0.0
    in_flight: set[asyncio.Task[None]] = set()

    async def one(sequence: int, due: float) -> None:
        nonlocal failed, last_success
        try:
            await operation(sequence)
        except Exception:
            failed += 1
            return
        last_success = time.perf_counter()
        latencies_s.append(last_success - due)

    start = time.perf_counter()
    for sequence in range(round(rate_per_s * duration_s)):
        due = start + sequence * interval_s
        if (wait_s := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait_s)
        if len(in_flight) >= max_in_flight:
            shed += 1
            continue
        task = asyncio.create_task(one(sequence, due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    unanswered = await _cancel_after(in_flight, drain_s)
    measured_s = max(duration_s, last_success - start)
    return summarize(latencies_s, failed + shed + unanswered, measured_s)


async def _cancel_after(tasks: set[asyncio.Task[None]], drain_s: float) -> int:
    """Wait up to `drain_s` for `tasks`; cancel the rest and say how many there were."""
    if not tasks:
        return 0
    _, pending = await asyncio.wait(set(tasks), timeout=drain_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return len(pending)
