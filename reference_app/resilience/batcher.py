"""Coalesce concurrent single writes into one flush, each caller getting its own result.

The first item opens a window (`window_s`, slept through an injectable `sleep`); the window
closing or the batch reaching `max_size` flushes it. The flush function returns one result per
item, where an exception instance fails only that item's caller; if the flush itself raises,
every caller of that batch gets the error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

Flush = Callable[[list[Item]], Awaitable[Sequence[Result | BaseException]]]
Sleep = Callable[[float], Awaitable[None]]


def _ignore_size(_size: int) -> None:
    """Default observer: nobody is counting batch sizes."""


class WriteBatcher(Generic[Item, Result]):
    """Gathers items for up to `window_s` or `max_size` items, then flushes them together."""

    def __init__(
        self,
        flush: Flush[Item, Result],
        *,
        window_s: float,
        max_size: int,
        sleep: Sleep = asyncio.sleep,
        on_flush: Callable[[int], None] = _ignore_size,
    ) -> None:
        self._flush = flush
        self._window_s = window_s
        self._max_size = max_size
        self._sleep = sleep
        self._on_flush = on_flush
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._timer: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        """Queue `item` for the next flush and wait for its own result."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if len(self._pending) >= self._max_size:
            self._flush_pending()
        elif self._timer is None:
            self._timer = asyncio.create_task(self._flush_after_window())
        return await future

    async def drain(self) -> None:
        """Flush what is queued and wait for every flush in flight (used at shutdown)."""
        self._flush_pending()
        while self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _flush_after_window(self) -> None:
        await self._sleep(self._window_s)
        self._timer = None
        self._flush_pending()

    def _flush_pending(self) -> None:
        if self._timer is not None and self._timer is not asyncio.current_task():
            self._timer.cancel()
        self._timer = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        task = asyncio.create_task(self._run(batch))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _run(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        self._on_flush(len(batch))
        try:
            results = await self._flush([item for item, _ in batch])
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as error:
            results = [error] * len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            # A caller whose own deadline passed has cancelled its future; skip it.
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
