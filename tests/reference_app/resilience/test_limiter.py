"""The concurrency limiter: a bounded number of slots, no wait past the deadline, and fewer
slots while the database refuses calls for load (429s, sockets dropped at its limit)."""

from __future__ import annotations

import asyncio

import pytest

from reference_app.resilience.deadline import Deadline
from reference_app.resilience.errors import (
    ConnectionLostError,
    DbTooManyRequestsError,
    OverloadedError,
)
from reference_app.resilience.limiter import GROWTH_INTERVAL_S, ConcurrencyLimiter
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


async def _hold(
    limiter: ConcurrencyLimiter, calls: int
) -> tuple[list[asyncio.Task[None]], asyncio.Event]:
    """`calls` callers asking for a slot and keeping it until the event is set."""
    release = asyncio.Event()

    async def call() -> None:
        async with limiter.slot(Deadline.never()):
            await release.wait()

    tasks = [asyncio.create_task(call()) for _ in range(calls)]
    await settle()
    return tasks, release


async def _lose_a_socket(limiter: ConcurrencyLimiter, calls_lost: int | None) -> None:
    with pytest.raises(ConnectionLostError):
        async with limiter.slot(Deadline.never()):
            raise ConnectionLostError("WebSocket was closed", calls_lost=calls_lost)


async def _refuse(limiter: ConcurrencyLimiter) -> None:
    with pytest.raises(DbTooManyRequestsError):
        async with limiter.slot(Deadline.never()):
            raise DbTooManyRequestsError("Server returned HTTP status 429")


async def test_a_socket_lost_with_calls_on_it_halves_the_slots() -> None:
    limiter = ConcurrencyLimiter(8, clock=FakeClock())

    await _lose_a_socket(limiter, calls_lost=6)
    tasks, release = await _hold(limiter, 5)

    assert limiter.limit == 4
    assert limiter.in_use == 4
    release.set()
    await asyncio.gather(*tasks)


async def test_a_socket_lost_with_one_call_on_it_halves_the_slots_not_to_one() -> None:
    limiter = ConcurrencyLimiter(32, clock=FakeClock())

    await _lose_a_socket(limiter, calls_lost=1)  # a restart, a proxy's idle timeout

    assert limiter.limit == 16


async def test_sockets_dropped_again_and_again_bring_the_slots_below_the_servers_limit() -> None:
    limiter = ConcurrencyLimiter(32, clock=FakeClock())

    for _ in range(5):  # each one lost by a call that took its slot after the last decrease
        await _lose_a_socket(limiter, calls_lost=3)

    assert limiter.limit == 1


async def _lose_one_socket_under(limiter: ConcurrencyLimiter, calls: int) -> None:
    """`calls` in flight together on one socket, all failed when it drops."""
    dropped = asyncio.Event()

    async def call(first: bool) -> None:
        async with limiter.slot(Deadline.never()):
            await dropped.wait()
            raise ConnectionLostError("WebSocket was closed", calls_lost=calls if first else None)

    tasks = [asyncio.create_task(call(first=i == 0)) for i in range(calls)]
    await settle()
    dropped.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(result, ConnectionLostError) for result in results)


async def test_the_other_calls_lost_with_that_socket_do_not_lower_the_slots_again() -> None:
    limiter = ConcurrencyLimiter(8, clock=FakeClock())

    await _lose_one_socket_under(limiter, calls=6)

    assert limiter.limit == 4


async def test_a_drop_is_heard_even_if_its_first_reporter_is_older_than_the_last_decrease() -> None:
    limiter = ConcurrencyLimiter(8, clock=FakeClock())
    old_calls, release = await _hold(limiter, 3)  # in flight from before the 429
    await _refuse(limiter)  # 8 -> 4
    release.set()
    await asyncio.gather(*old_calls)

    # A call sent after that decrease is lost with a socket; an older one reported the loss.
    await _lose_a_socket(limiter, calls_lost=None)

    assert limiter.limit == 2


async def test_a_429_halves_the_slots() -> None:
    limiter = ConcurrencyLimiter(32, clock=FakeClock())

    await _refuse(limiter)

    assert limiter.limit == 16


async def test_429s_to_calls_in_flight_together_halve_the_slots_once() -> None:
    limiter = ConcurrencyLimiter(32, clock=FakeClock())
    go = asyncio.Event()

    async def refused() -> None:
        async with limiter.slot(Deadline.never()):
            await go.wait()
            raise DbTooManyRequestsError("Server returned HTTP status 429")

    calls = [asyncio.create_task(refused()) for _ in range(10)]
    await settle()
    go.set()
    results = await asyncio.gather(*calls, return_exceptions=True)

    assert all(isinstance(result, DbTooManyRequestsError) for result in results)
    assert limiter.limit == 16
    await _refuse(limiter)  # a call sent after that decrease: news again
    assert limiter.limit == 8


async def test_slots_held_when_the_socket_is_lost_are_given_up_as_their_calls_end() -> None:
    limiter = ConcurrencyLimiter(4, clock=FakeClock())
    tasks, release = await _hold(limiter, 4)

    limiter.back_off(limiter.epoch)  # the four calls in flight still hold their slots
    release.set()
    await asyncio.gather(*tasks)
    tasks, release = await _hold(limiter, 4)

    assert limiter.in_use == 2
    release.set()
    await asyncio.gather(*tasks)


async def test_the_slots_grow_back_one_per_interval_while_calls_queue() -> None:
    clock = FakeClock()
    limiter = ConcurrencyLimiter(2, clock=clock)
    limiter.back_off(limiter.epoch)
    tasks, release = await _hold(limiter, 3)  # one call more than the single slot: it queues

    clock.advance(GROWTH_INTERVAL_S / 2)
    release.set()
    await asyncio.gather(*tasks)
    assert limiter.limit == 1  # too soon
    clock.advance(GROWTH_INTERVAL_S / 2)
    tasks, release = await _hold(limiter, 3)
    release.set()
    await asyncio.gather(*tasks)

    assert limiter.limit == 2


async def test_the_slots_do_not_grow_while_nobody_queues_for_one() -> None:
    clock = FakeClock()
    limiter = ConcurrencyLimiter(2, clock=clock)
    limiter.back_off(limiter.epoch)

    for _ in range(3):
        clock.advance(GROWTH_INTERVAL_S)
        async with limiter.slot(Deadline.never()):
            pass

    assert limiter.limit == 1


async def test_the_slots_never_grow_past_the_configured_number() -> None:
    clock = FakeClock()
    limiter = ConcurrencyLimiter(2, clock=clock)
    limiter.back_off(limiter.epoch)

    for _ in range(4):
        clock.advance(GROWTH_INTERVAL_S)
        tasks, release = await _hold(limiter, 3)
        release.set()
        await asyncio.gather(*tasks)

    assert limiter.limit == 2
    tasks, release = await _hold(limiter, 3)
    assert limiter.in_use == 2
    release.set()
    await asyncio.gather(*tasks)
