"""The concurrency limiter: a bounded number of slots, and no wait past the deadline."""

from __future__ import annotations

import asyncio

import pytest

from reference_app.resilience.deadline import Deadline
from reference_app.resilience.errors import OverloadedError
from reference_app.resilience.limiter import ConcurrencyLimiter
from tests.reference_app.fakes import FakeClock, settle


async def test_no_more_than_capacity_calls_hold_a_slot() -> None:
    seen: list[int] = []
    limiter = ConcurrencyLimiter(2, on_change=seen.append)
    release = asyncio.Event()
    peak = 0

    async def call() -> None:
        nonlocal peak
        async with limiter.slot(Deadline.never()):
            peak = max(peak, limiter.in_use)
            await release.wait()

    calls = [asyncio.create_task(call()) for _ in range(5)]
    await settle()
    assert limiter.in_use == 2
    release.set()
    await asyncio.gather(*calls)

    assert peak == 2
    assert limiter.in_use == 0
    assert max(seen) == 2


async def test_a_caller_with_no_time_left_is_refused_when_all_slots_are_busy() -> None:
    limiter = ConcurrencyLimiter(1)
    expired = Deadline.after(0.0, FakeClock())

    async with limiter.slot(Deadline.never()):
        with pytest.raises(OverloadedError) as raised:
            async with limiter.slot(expired):
                pytest.fail("no slot was free")

    assert raised.value.retry_after_s >= 1
    assert limiter.in_use == 0
