"""Time you control: a fake monotonic clock, a sleep that advances it, a timer you fire."""

from __future__ import annotations

import asyncio


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSleep:
    """Stands in for asyncio.sleep: records (when, how long) and moves the clock instead."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sleeps: list[tuple[float, float]] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append((self.clock.now, seconds))
        self.clock.advance(seconds)

    @property
    def delays(self) -> list[float]:
        return [seconds for _, seconds in self.sleeps]


class ManualTimer:
    """A sleep that returns only when the test calls `fire()`."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._waiting: list[asyncio.Future[None]] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        await waiter

    def fire(self) -> None:
        waiting, self._waiting = self._waiting, []
        for waiter in waiting:
            if not waiter.done():
                waiter.set_result(None)


async def settle() -> None:
    """Let every ready task run until they all wait again (no time passes)."""
    for _ in range(10):
        await asyncio.sleep(0)
