"""The open model keeps its schedule through a stall and times requests from when they were due."""

from __future__ import annotations

import pytest

from loadtests.arrivals import ArrivalSchedule, drive, failure, latency_ms


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        self.now_s += seconds


def test_requests_launch_on_schedule_when_nothing_stalls() -> None:
    clock, launched = FakeClock(), []

    def launch(intended_s: float) -> None:
        launched.append((intended_s, clock()))

    count = drive(ArrivalSchedule(10.0, 0.0), 1.0, clock, clock.sleep, launch)

    assert count == 10
    assert all(due == pytest.approx(at) for due, at in launched)


def test_a_stall_delays_launches_but_not_intended_times() -> None:
    """A 4 s stall at request 5: the backlog goes out at once, each timed from its due time."""
    clock, latencies = FakeClock(), []

    def launch(intended_s: float) -> None:
        if intended_s == pytest.approx(0.5):
            clock.now_s += 4.0  # the generator itself is stuck, as behind a stalled server
        latencies.append(latency_ms(intended_s, clock()))

    count = drive(ArrivalSchedule(10.0, 0.0), 6.0, clock, clock.sleep, launch)

    assert count == 60  # nothing skipped: every request due before the stop was sent
    # Request 6 was due at 0.6 s and went out at 4.5 s; request 44 (due 4.4 s) waited 0.1 s.
    assert latencies[6] == pytest.approx(3900.0)
    assert latencies[44] == pytest.approx(100.0)
    assert latencies[46] == pytest.approx(0.0)
    # Requests 5-34 (due 0.5-3.4 s) each count more than a second; a closed model saw one.
    assert sum(lat > 1000 for lat in latencies) == 30


def test_latency_counts_from_the_intended_start() -> None:
    assert latency_ms(intended_s=10.0, finished_s=10.25) == pytest.approx(250.0)


@pytest.mark.parametrize(("status", "failed"), [(200, False), (204, False), (404, True), (0, True)])
def test_failure_is_any_non_2xx(status: int, failed: bool) -> None:
    assert (failure(status) is not None) is failed
