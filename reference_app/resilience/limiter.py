"""A bound on concurrent DB calls (the pool size), lowered while the server drops sockets.

Waiting for a slot ends at the deadline. The bound adapts as TCP's window does (AIMD): sqld
ends a whole WebSocket, every call on it, when a stream would pass its admission limit, so a
socket lost with N calls on it halves the bound to N/2 (at least 1); it grows back by one slot
per GROWTH_INTERVAL_S in which calls had to wait for a slot and no socket was lost, up to
`max_concurrency`. A reset for any other reason lowers it too (it cannot be told apart); the
growth brings it back within seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import TracebackType

from reference_app.resilience.deadline import Clock, Deadline
from reference_app.resilience.errors import ConnectionLostError, OverloadedError

OVERLOADED_RETRY_AFTER_S = 1.0
# One slot back per this long with calls queueing and no socket lost: at a server limit the
# app stays just below, one probe above it (one dropped socket, its calls retried) per step.
GROWTH_INTERVAL_S = 0.25


def _ignore_count(_count: int) -> None:
    """Default observer: nobody is watching the slots."""


class ConcurrencyLimiter:
    """At most `limit` calls hold a slot (`max_concurrency` at most); the rest queue until their
    deadline.

    The semaphore always has `max_concurrency` permits; those above the limit are withheld,
    taken out of it at once when free, or as calls in flight give them back (owed).
    """

    def __init__(
        self,
        max_concurrency: int,
        *,
        clock: Clock = time.monotonic,
        on_change: Callable[[int], None] = _ignore_count,
        on_limit: Callable[[int], None] = _ignore_count,
    ) -> None:
        self._capacity = max_concurrency
        self._limit = max_concurrency
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._withheld = 0
        self._owed = 0
        self._in_use = 0
        self._clock = clock
        self._limit_changed_at = clock()
        self._queued = False  # a call found no free slot since the limit last changed
        self._on_change = on_change
        self._on_limit = on_limit

    @property
    def in_use(self) -> int:
        return self._in_use

    @property
    def limit(self) -> int:
        return self._limit

    def slot(self, deadline: Deadline) -> _Slot:
        """`async with limiter.slot(deadline)`: hold one slot for the block; OverloadedError if
        none frees before the deadline."""
        return _Slot(self, deadline)

    def connection_lost(self, calls_lost: int) -> None:
        """A socket ended with `calls_lost` calls on it: at most half as many from now on."""
        lowered = max(1, min(self._limit, calls_lost) // 2)
        self._limit_changed_at = self._clock()  # and no growth for a while, even at 1
        self._queued = False
        if lowered < self._limit:
            self._owed += self._limit - lowered
            self._set_limit(lowered)

    async def _acquire(self, deadline: Deadline) -> None:
        while self._owed and not self._semaphore.locked():
            await self._semaphore.acquire()  # a free permit: taken without suspending
            self._owed -= 1
            self._withheld += 1
        if self._semaphore.locked():
            self._queued = True
            try:
                async with asyncio.timeout(deadline.budget(None)):
                    await self._semaphore.acquire()
            except TimeoutError:
                raise OverloadedError(
                    f"all {self._limit} database slots stayed busy until the deadline",
                    retry_after_s=OVERLOADED_RETRY_AFTER_S,
                ) from None
        else:
            # A free slot is taken without suspending, so no timer is needed (the common case).
            await self._semaphore.acquire()
        self._change(+1)

    def _release(self, *, succeeded: bool) -> None:
        self._change(-1)
        if self._owed:
            self._owed -= 1
            self._withheld += 1
        else:
            self._semaphore.release()
        if succeeded and self._limit < self._capacity:  # checked here: the hot path is full
            self._grow_if_due()

    def _grow_if_due(self) -> None:
        if not self._queued:
            return
        if self._clock() - self._limit_changed_at < GROWTH_INTERVAL_S:
            return
        self._limit_changed_at = self._clock()
        self._queued = False
        if self._owed:
            self._owed -= 1
        else:
            self._withheld -= 1
            self._semaphore.release()
        self._set_limit(self._limit + 1)

    def _set_limit(self, limit: int) -> None:
        self._limit = limit
        self._on_limit(limit)

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
        error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if isinstance(error, ConnectionLostError) and error.calls_lost is not None:
            self._limiter.connection_lost(error.calls_lost)
        self._limiter._release(succeeded=error is None)
