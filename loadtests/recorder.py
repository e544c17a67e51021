"""Exact latency percentiles: every request's time into an HDR histogram per endpoint.

Locust's own statistics round response times to about two significant digits; these
histograms keep three. Workers ship their histograms to the master with each stats
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

from loadtests.arrivals import RequestCensored
from loadtests.hdr import Recorder

REPORT_KEY = "exact_latency"
SERVICE_KEY = "exact_service_time"


RECORDER = Recorder()


@events.request.add_listener
def on_request(
    request_type: str, name: str, response_time: float, exception: BaseException | None, **_: Any
) -> None:
    censored = isinstance(exception, RequestCensored)
    RECORDER.record(request_type, name, response_time, exception is not None, censored)


@events.test_start.add_listener
def on_test_start(environment: Environment, **_: Any) -> None:
    RECORDER.started_s = time.time()


@events.test_stop.add_listener
def on_test_stop(environment: Environment, **_: Any) -> None:
    RECORDER.stopped_s = time.time()


@events.report_to_master.add_listener
def on_report_to_master(client_id: str, data: dict[str, Any]) -> None:
    data[REPORT_KEY] = RECORDER.drain()
    data[SERVICE_KEY] = RECORDER.drain_service()


@events.worker_report.add_listener
def on_worker_report(client_id: str, data: dict[str, Any]) -> None:
    RECORDER.merge(data.get(REPORT_KEY, {}))
    RECORDER.merge_service(data.get(SERVICE_KEY, {}))


@events.quitting.add_listener
def on_quitting(environment: Environment, **_: Any) -> None:
    out = environment.parsed_options.exact_out if environment.parsed_options else ""
    if out and not isinstance(environment.runner, WorkerRunner):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(RECORDER.as_json()))
