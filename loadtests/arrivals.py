"""The open model's schedule and latency accounting (pure, so a fake clock can test it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
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


class RequestCensored(Exception):
    """A request still in flight when the run stopped: its latency is at least the time so far."""


def _always() -> bool:
    return True


def drive(
    schedule: ArrivalSchedule,
    stop_s: float,
    clock: Clock,
    sleep: Sleep,
    launch: Callable[[float], None],
    keep_going: Callable[[], bool] = _always,
) -> int:
    """Launch every request due before `stop_s` at its time; late ones go at once, never skipped.

    `keep_going` is asked before each launch (the run may be stopping). Returns how many
    were launched.
    """
    k = 0
    while keep_going() and (due_s := schedule.intended(k)) < stop_s:
        wait_s = due_s - clock()
        if wait_s > 0:
            sleep(wait_s)
        launch(due_s)
        k += 1
    return k


def censored(intended_s: Iterable[float], now_s: float) -> list[tuple[float, RequestCensored]]:
    """Requests still in flight at `now_s`, due at `intended_s`: their latency so far (a
    lower bound) and the outcome to report, so a stall at the very end still counts."""
    reports = []
    for due_s in intended_s:
        waited_ms = latency_ms(due_s, now_s)
        reports.append(
            (
                waited_ms,
                RequestCensored(f"in flight when the run stopped, after {waited_ms:.0f} ms"),
            )
        )
    return reports


def latency_ms(intended_s: float, finished_s: float) -> float:
    """Response time as the caller experiences it: from when the request was due."""
    return (finished_s - intended_s) * 1000


def failure(status_code: int) -> Exception | None:
    return None if 200 <= status_code < 300 else ConnectionError(f"HTTP {status_code}")
