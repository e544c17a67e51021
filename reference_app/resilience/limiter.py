"""A bound on concurrent DB calls (the pool size); waiting for a slot ends at the deadline."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from reference_app.resilience.deadline import Deadline
from reference_app.resilience.errors import OverloadedError

OVERLOADED_RETRY_AFTER_S = 1.0


def _ignore_in_use(_in_use: int) -> None:
    """Default observer: nobody is watching the slots."""


class ConcurrencyLimiter:
    """At most `max_concurrency` calls hold a slot; the rest queue until their deadline."""

    def __init__(
        self, max_concurrency: int, *, on_change: Callable[[int], None] = _ignore_in_use
    ) -> None:
        self._capacity = max_concurrency
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._in_use = 0
        self._on_change = on_change

    @property
    def in_use(self) -> int:
        return self._in_use

    @contextlib.asynccontextmanager
    async def slot(self, deadline: Deadline) -> AsyncIterator[None]:
        """Hold one slot for the block; OverloadedError if none frees before the deadline."""
        try:
            async with asyncio.timeout(deadline.budget(None)):
                await self._semaphore.acquire()
        except TimeoutError:
            raise OverloadedError(
                f"all {self._capacity} database slots stayed busy until the deadline",
                retry_after_s=OVERLOADED_RETRY_AFTER_S,
            ) from None
        self._change(+1)
        try:
            yield
        finally:
            self._change(-1)
            self._semaphore.release()

    def _change(self, delta: int) -> None:
        self._in_use += delta
        self._on_change(self._in_use)
