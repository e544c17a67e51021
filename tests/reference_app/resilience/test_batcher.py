"""The write batcher's decisions: when it flushes, what each caller gets back."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from reference_app.resilience.batcher import WriteBatcher
from tests.reference_app.fakes import ManualTimer, settle

WINDOW_S = 0.002


class Recorder:
    """A flush that records each batch and answers item * 10, or an error for negatives."""

    def __init__(self, raise_on_flush: Exception | None = None) -> None:
        self.batches: list[list[int]] = []
        self.raise_on_flush = raise_on_flush

    async def __call__(self, items: list[int]) -> Sequence[int | BaseException]:
        self.batches.append(items)
        if self.raise_on_flush is not None:
            raise self.raise_on_flush
        return [ValueError(f"bad {i}") if i < 0 else i * 10 for i in items]


class HeldFlush(Recorder):
    """A flush whose round trips stay out until the test lets the oldest one return."""

    def __init__(self) -> None:
        super().__init__()
        self._held: list[asyncio.Event] = []

    async def __call__(self, items: list[int]) -> Sequence[int | BaseException]:
        returned = asyncio.Event()
        self._held.append(returned)
        await returned.wait()
        return await super().__call__(items)

    async def let_one_return(self) -> None:
        self._held.pop(0).set()
        await settle()


def batcher(
    flush: Recorder, timer: ManualTimer, max_size: int = 10, max_in_flight: int = 4
) -> WriteBatcher[int, int]:
    return WriteBatcher(
        flush, window_s=WINDOW_S, max_size=max_size, max_in_flight=max_in_flight, sleep=timer
    )


async def submit_and_close_window(
    writes: WriteBatcher[int, int], timer: ManualTimer, *items: int
) -> list[asyncio.Task[int]]:
    callers = [asyncio.create_task(writes.submit(i)) for i in items]
    await settle()
    timer.fire()
    await settle()
    return callers


async def test_items_within_the_window_go_in_one_flush_each_with_its_own_result() -> None:
    flush, timer = Recorder(), ManualTimer()
    writes = batcher(flush, timer)

    callers = [asyncio.create_task(writes.submit(i)) for i in (1, 2, 3)]
    await settle()
    assert flush.batches == []

    timer.fire()

    assert await asyncio.gather(*callers) == [10, 20, 30]
    assert flush.batches == [[1, 2, 3]]
    assert timer.delays == [WINDOW_S]


async def test_reaching_the_size_cap_flushes_without_waiting_for_the_window() -> None:
    flush, timer = Recorder(), ManualTimer()
    writes = batcher(flush, timer, max_size=2)

    first_two = [asyncio.create_task(writes.submit(i)) for i in (1, 2)]
    third = asyncio.create_task(writes.submit(3))

    assert await asyncio.gather(*first_two) == [10, 20]
    assert flush.batches == [[1, 2]]
    timer.fire()
    assert await third == 30
    assert flush.batches == [[1, 2], [3]]


async def test_an_item_error_fails_only_its_own_caller() -> None:
    flush, timer = Recorder(), ManualTimer()
    writes = batcher(flush, timer)

    good = asyncio.create_task(writes.submit(1))
    bad = asyncio.create_task(writes.submit(-1))
    await settle()
    timer.fire()

    assert await good == 10
    with pytest.raises(ValueError, match="bad -1"):
        await bad


async def test_a_failed_flush_fails_every_caller_in_that_batch() -> None:
    flush, timer = Recorder(raise_on_flush=ConnectionError("down")), ManualTimer()
    writes = batcher(flush, timer)

    callers = [asyncio.create_task(writes.submit(i)) for i in (1, 2)]
    await settle()
    timer.fire()

    results = await asyncio.gather(*callers, return_exceptions=True)
    assert [type(result) for result in results] == [ConnectionError, ConnectionError]


async def test_a_caller_that_gives_up_does_not_disturb_the_others() -> None:
    flush, timer = Recorder(), ManualTimer()
    writes = batcher(flush, timer)

    leaving = asyncio.create_task(writes.submit(1))
    staying = asyncio.create_task(writes.submit(2))
    await settle()
    leaving.cancel()
    timer.fire()

    assert await staying == 20
    assert flush.batches == [[1, 2]]  # the write still happens: it is idempotent


async def test_drain_flushes_what_is_queued() -> None:
    sizes: list[int] = []
    flush, timer = Recorder(), ManualTimer()
    writes = WriteBatcher(
        flush, window_s=WINDOW_S, max_size=10, max_in_flight=4, sleep=timer, on_flush=sizes.append
    )

    caller = asyncio.create_task(writes.submit(7))
    await settle()
    await writes.drain()

    assert await caller == 70
    assert sizes == [1]


async def test_with_every_flush_out_a_closed_window_waits_and_the_batch_grows() -> None:
    flush, timer = HeldFlush(), ManualTimer()
    writes = batcher(flush, timer, max_in_flight=2)
    first = await submit_and_close_window(writes, timer, 1)
    second = await submit_and_close_window(writes, timer, 2)

    waiting = [asyncio.create_task(writes.submit(i)) for i in (3, 4, 5, 6)]
    await settle()
    assert len(flush._held) == 2  # nothing sent while both round trips are out
    assert timer.delays == [WINDOW_S] * 2  # and no window opened for 3-6

    await flush.let_one_return()

    assert await first[0] == 10
    assert len(flush._held) == 2  # 3-6 left at once, in one batch, with no new window
    assert timer.delays == [WINDOW_S] * 2
    await flush.let_one_return()
    await flush.let_one_return()
    assert await asyncio.gather(*second, *waiting) == [20, 30, 40, 50, 60]
    assert flush.batches == [[1], [2], [3, 4, 5, 6]]


async def test_a_full_batch_leaves_even_with_every_flush_out() -> None:
    flush, timer = HeldFlush(), ManualTimer()
    writes = batcher(flush, timer, max_size=2, max_in_flight=1)
    first = await submit_and_close_window(writes, timer, 1)

    full = [asyncio.create_task(writes.submit(i)) for i in (2, 3)]
    await settle()

    assert len(flush._held) == 2
    for _ in range(2):
        await flush.let_one_return()
    assert await asyncio.gather(*first, *full) == [10, 20, 30]


async def test_a_returning_flush_does_not_cut_an_open_window_short() -> None:
    flush, timer = HeldFlush(), ManualTimer()
    writes = batcher(flush, timer, max_in_flight=2)
    first = await submit_and_close_window(writes, timer, 1)
    opened = asyncio.create_task(writes.submit(2))
    await settle()

    await flush.let_one_return()

    assert await first[0] == 10
    assert len(flush._held) == 0  # 2 waits for its own window, not for the return
    timer.fire()
    await settle()
    await flush.let_one_return()
    assert await opened == 20
    assert flush.batches == [[1], [2]]


async def test_drain_sends_what_waits_even_with_every_flush_out() -> None:
    flush, timer = HeldFlush(), ManualTimer()
    writes = batcher(flush, timer, max_in_flight=1)
    first = await submit_and_close_window(writes, timer, 1)
    waiting = await submit_and_close_window(writes, timer, 2)

    draining = asyncio.create_task(writes.drain())
    await settle()
    assert len(flush._held) == 2
    for _ in range(2):
        await flush.let_one_return()
    await draining

    assert await asyncio.gather(*first, *waiting) == [10, 20]
