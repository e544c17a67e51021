"""The open model keeps its schedule through a stall and times requests from when they were due."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness.hdr import Recorder, endpoint_summaries
from harness.settings import PROJECT_ROOT
from loadtests.arrivals import (
    ArrivalSchedule,
    RequestCensored,
    censored,
    drive,
    failure,
    latency_ms,
)
from stackbench.summary import format_summary_table


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


def test_a_stopping_run_launches_nothing_more() -> None:
    clock, launched = FakeClock(), []
    stopping_after = 3

    count = drive(
        ArrivalSchedule(10.0, 0.0),
        60.0,
        clock,
        clock.sleep,
        launched.append,
        keep_going=lambda: len(launched) < stopping_after,
    )

    assert count == stopping_after


def test_latency_counts_from_the_intended_start() -> None:
    assert latency_ms(intended_s=10.0, finished_s=10.25) == pytest.approx(250.0)


@pytest.mark.parametrize(("status", "failed"), [(200, False), (204, False), (404, True), (0, True)])
def test_failure_is_any_non_2xx(status: int, failed: bool) -> None:
    assert (failure(status) is not None) is failed


def test_requests_in_flight_at_the_stop_are_censored_at_their_time_so_far() -> None:
    reports = censored([7.5, 9.0], now_s=10.0)

    assert [ms for ms, _ in reports] == [2500.0, 1000.0]
    assert all(isinstance(outcome, RequestCensored) for _, outcome in reports)
    assert "2500 ms" in str(reports[0][1])


# Run apart: importing Locust monkey-patches this process's standard library.
OPEN_USER_PROBE = """
import gevent, json
from locust.env import Environment
from locust.event import Events
from loadtests.recorder import RECORDER
from loadtests.users.open_reader import OpenReader

class Options:
    arrival_rate, num_users, first_id, last_id, commented_posts, ab_host = 10.0, 1, 1, 9, 0, ""

class Reader(OpenReader):
    host = "http://127.0.0.1:9"  # never called

fired = []
events = Events()
events.request.add_listener(lambda **meta: fired.append(meta))
environment = Environment(user_classes=[Reader], events=events)
environment.parsed_options = Options()
user = Reader(environment)
user.client.request_event.fire(
    request_type="GET", name="/posts/{id} (service time)", response_time=3.0, exception=None
)
service_view = sorted(RECORDER.service)
user.clock = lambda: 10.0
for due_s in (7.5, 9.0):
    user._in_flight[user._requests.spawn(gevent.sleep, 60)] = due_s
user.on_stop()
print(json.dumps({
    "fired": [[m["name"], m["response_time"], type(m["exception"]).__name__] for m in fired],
    "service_view": service_view,
    "left_in_flight": len(user._in_flight),
}))
"""


def test_the_open_user_reports_each_request_once_and_censors_at_the_stop() -> None:
    result = subprocess.run(
        [sys.executable, "-c", OPEN_USER_PROBE],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    # The client's own service-time event went to its separate view, not to the statistics.
    assert probe["service_view"] == ["GET /posts/{id} (service time)"]
    # The two requests in flight at the stop were reported, censored, from when they were due.
    assert probe["fired"] == [
        ["/posts/{id} (open model)", 2500.0, "RequestCensored"],
        ["/posts/{id} (open model)", 1000.0, "RequestCensored"],
    ]
    assert probe["left_in_flight"] == 0


def test_censored_requests_count_in_the_percentiles_at_their_lower_bound() -> None:
    recorder = Recorder()
    for _ in range(98):
        recorder.record("GET", "/x", 10.0, failed=False)
    recorder.record("GET", "/x", 4000.0, failed=True, censored=True)
    recorder.record("GET", "/x", 4000.0, failed=True, censored=True)

    row = endpoint_summaries({"duration_s": 1.0, "endpoints": recorder.drain()})["GET /x"]

    assert row.requests == 100
    assert row.censored == 2
    assert row.errors == 0
    assert row.p99_ms == pytest.approx(4000.0, rel=1e-3)  # a stall at the end shows
    assert "in flight at the end" in format_summary_table("t", {"GET /x": row})
