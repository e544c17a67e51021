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


def batcher(flush: Recorder, timer: ManualTimer, max_size: int = 10) -> WriteBatcher[int, int]:
    return WriteBatcher(flush, window_s=WINDOW_S, max_size=max_size, sleep=timer)


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
    writes = WriteBatcher(flush, window_s=WINDOW_S, max_size=10, sleep=timer, on_flush=sizes.append)

    caller = asyncio.create_task(writes.submit(7))
    await settle()
    await writes.drain()

    assert await caller == 70
    assert sizes == [1]
