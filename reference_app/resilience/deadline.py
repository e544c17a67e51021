"""A per-request deadline carried in a context variable, with an injectable monotonic clock.

The API's deadline middleware opens a scope per request; DB calls deep below read it, so no
function between the route and the database has to pass it along.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point on a monotonic clock after which the work is no longer wanted."""

    expires_at: float
    clock: Clock = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Clock = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    @classmethod
    def never(cls) -> Deadline:
        return cls(math.inf)

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.expires_at)

    def remaining(self) -> float:
        """Seconds left, never negative; infinite for an unbounded deadline."""
        return max(self.expires_at - self.clock(), 0.0)

    def budget(self, seconds: float | None) -> float | None:
        """The smaller of `seconds` and the time left, for asyncio.timeout (None: no limit)."""
        left = self.remaining() if self.bounded else None
        if seconds is None or left is None:
            return left if seconds is None else seconds
        return min(seconds, left)


_NEVER = Deadline.never()
_current: ContextVar[Deadline | None] = ContextVar("request_deadline", default=None)


def current_deadline() -> Deadline:
    """The deadline of the request being served, or an unbounded one outside any request."""
    return _current.get() or _NEVER


@contextlib.contextmanager
def deadline_scope(deadline: Deadline) -> Iterator[Deadline]:
    """Make `deadline` the current one for the code inside (and tasks it creates)."""
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def latest(deadlines: Iterable[Deadline]) -> Deadline:
    """The deadline that ends last: shared work must outlive every waiter still interested."""
    return max(deadlines, key=lambda deadline: deadline.expires_at)
