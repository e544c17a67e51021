"""A bound on concurrent DB calls (the pool size), lowered while the server refuses for load.

Waiting for a slot ends at the deadline. The bound adapts as TCP's window does (AIMD). The
server's signs of overload are a 429 (over http) and a dropped WebSocket (sqld ends a whole
socket, every call on it, when a stream would pass its admission limit). Each halves the bound
(at least 1), once per epoch: calls that took their slot before the last decrease were in
flight together with the call that caused it, so their refusals are the same news, as TCP cuts
its window once per round trip however many packets of it were lost. The bound grows back by
one slot per GROWTH_INTERVAL_S in which calls had to wait for a slot and nothing was refused,
up to `max_concurrency`. A reset for any other reason (a restart, a proxy's idle timeout)
lowers it too, as it cannot be told apart: by half, which the growth undoes within seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import TracebackType

from reference_app.resilience.deadline import Clock, Deadline
from reference_app.resilience.errors import (
    ConnectionLostError,
    DbTooManyRequestsError,
    OverloadedError,
)

OVERLOADED_RETRY_AFTER_S = 1.0
# One slot back per this long with calls queueing and nothing refused: at a server limit the
# app stays just below, one probe above it (a 429 or a dropped socket, retried) per step.
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
        self._epoch = 0  # decreases so far: a slot taken in an older epoch cannot lower it
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

    @property
    def epoch(self) -> int:
        return self._epoch

    def back_off(self, epoch: int) -> None:
        """The database refused for load a call whose slot was taken in `epoch`: half as many
        slots from now on, unless the slots were lowered since that call took its slot."""
        if epoch != self._epoch:
            return
        self._epoch += 1
        lowered = max(1, self._limit // 2)
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
        # The cheap comparison first: with every slot open (the usual case) a release costs
        # one comparison more, not a clock read.
        if succeeded and self._limit < self._capacity:
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

    __slots__ = ("_deadline", "_epoch", "_limiter")

    def __init__(self, limiter: ConcurrencyLimiter, deadline: Deadline) -> None:
        self._limiter = limiter
        self._deadline = deadline
        self._epoch = 0

    async def __aenter__(self) -> None:
        await self._limiter._acquire(self._deadline)
        self._epoch = self._limiter.epoch

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if _refused_for_load(error):
            self._limiter.back_off(self._epoch)
        self._limiter._release(succeeded=error is None)


def _refused_for_load(error: BaseException | None) -> bool:
    """A 429, or a dropped socket: the calls lost with one socket, in flight together, are
    one sign of overload, which the epoch of their slots makes one decrease."""
    return isinstance(error, (DbTooManyRequestsError, ConnectionLostError))
