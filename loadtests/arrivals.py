"""The open model's schedule and latency accounting (pure, so a fake clock can test it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class ArrivalSchedule:
    """When each request is due: evenly spaced at `rate_per_s` from `start_s`."""

    rate_per_s: float
    start_s: float

    def intended(self, k: int) -> float:
        return self.start_s + k / self.rate_per_s


def drive(
    schedule: ArrivalSchedule,
    stop_s: float,
    clock: Clock,
    sleep: Sleep,
    launch: Callable[[float], None],
) -> int:
    """Launch every request due before `stop_s` at its time; late ones go at once, never skipped.

    Returns how many were launched.
    """
    k = 0
    while (due_s := schedule.intended(k)) < stop_s:
        wait_s = due_s - clock()
        if wait_s > 0:
            sleep(wait_s)
        launch(due_s)
        k += 1
    return k


def latency_ms(intended_s: float, finished_s: float) -> float:
    """Response time as the caller experiences it: from when the request was due."""
    return (finished_s - intended_s) * 1000


def failure(status_code: int) -> Exception | None:
    return None if 200 <= status_code < 300 else ConnectionError(f"HTTP {status_code}")
