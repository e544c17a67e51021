"""Exact latency percentiles: every request's time into an HDR histogram per endpoint.

Locust's own statistics round response times to about two significant digits; these
histograms keep three. A second set, one histogram per endpoint per second (by each
request's start), is what reports plot over time: exact per interval, where Locust's
history is a rolling window that lags. Workers ship both to the master with each stats
report (and reset them), so the master's file covers the whole distributed run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner

from harness.hdr import Recorder, Timeline
from loadtests.arrivals import RequestCensored

REPORT_KEY = "exact_latency"
SERVICE_KEY = "exact_service_time"
TIMELINE_KEY = "exact_timeline"


RECORDER = Recorder()
TIMELINE = Timeline()


@events.request.add_listener
def on_request(
    request_type: str, name: str, response_time: float, exception: BaseException | None, **_: Any
) -> None:
    censored = isinstance(exception, RequestCensored)
    failed = exception is not None
    RECORDER.record(request_type, name, response_time, failed, censored)
    # A censored request (in flight at the stop) is timed up to the stop, not a failure.
    TIMELINE.record(f"{request_type} {name}", response_time, failed and not censored, time.time())


@events.test_start.add_listener
def on_test_start(environment: Environment, **_: Any) -> None:
    # The first start: a web UI run started again keeps one time axis.
    if RECORDER.started_s is None:
        RECORDER.started_s = time.time()


@events.test_stopping.add_listener
def on_test_stopping(environment: Environment, **_: Any) -> None:
    # From here no user starts a request: the time series ends here, not at test_stop,
    # which waits for the users' last requests (--stop-timeout).
    TIMELINE.load_ended_s = time.time()


@events.test_stop.add_listener
def on_test_stop(environment: Environment, **_: Any) -> None:
    RECORDER.stopped_s = time.time()


@events.report_to_master.add_listener
def on_report_to_master(client_id: str, data: dict[str, Any]) -> None:
    data[REPORT_KEY] = RECORDER.drain()
    data[SERVICE_KEY] = RECORDER.drain_service()
    data[TIMELINE_KEY] = TIMELINE.drain()


@events.worker_report.add_listener
def on_worker_report(client_id: str, data: dict[str, Any]) -> None:
    RECORDER.merge(data.get(REPORT_KEY, {}))
    RECORDER.merge_service(data.get(SERVICE_KEY, {}))
    TIMELINE.merge(data.get(TIMELINE_KEY, {}))


@events.quitting.add_listener
def on_quitting(environment: Environment, **_: Any) -> None:
    out = environment.parsed_options.exact_out if environment.parsed_options else ""
    if out and not isinstance(environment.runner, WorkerRunner):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        exact = {
            **RECORDER.as_json(),
            # A web UI may quit before anyone pressed Start.
            "test_started": RECORDER.started_s is not None,
            "interval_s": TIMELINE.interval_s,
            "load_ended_s": TIMELINE.load_ended_s,
            "intervals": TIMELINE.drain(),
        }
        Path(out).write_text(json.dumps(exact))
