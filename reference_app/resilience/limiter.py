"""A bound on concurrent DB calls (the pool size); waiting for a slot ends at the deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType

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

    def slot(self, deadline: Deadline) -> _Slot:
        """`async with limiter.slot(deadline)`: hold one slot for the block; OverloadedError if
        none frees before the deadline."""
        return _Slot(self, deadline)

    async def _acquire(self, deadline: Deadline) -> None:
        if self._semaphore.locked():
            try:
                async with asyncio.timeout(deadline.budget(None)):
                    await self._semaphore.acquire()
            except TimeoutError:
                raise OverloadedError(
                    f"all {self._capacity} database slots stayed busy until the deadline",
                    retry_after_s=OVERLOADED_RETRY_AFTER_S,
                ) from None
        else:
            # A free slot is taken without suspending, so no timer is needed (the common case).
            await self._semaphore.acquire()
        self._change(+1)

    def _release(self) -> None:
        self._change(-1)
        self._semaphore.release()

    def _change(self, delta: int) -> None:
        self._in_use += delta
        self._on_change(self._in_use)


class _Slot:
    """The context manager `slot` returns: a plain class, cheaper per call than a generator."""

    __slots__ = ("_deadline", "_limiter")

    def __init__(self, limiter: ConcurrencyLimiter, deadline: Deadline) -> None:
        self._limiter = limiter
        self._deadline = deadline

    async def __aenter__(self) -> None:
        await self._limiter._acquire(self._deadline)

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._limiter._release()
