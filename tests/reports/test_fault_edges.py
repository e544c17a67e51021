"""A fault with known edges shows in the report's time series within one interval of them.

A real Locust run drives the app through the real stack; Toxiproxy adds 300 ms to every
database response between two recorded instants. The intervals whose p50 is slow must be
exactly those the fault covered, give or take one interval at each edge: no lag from a
rolling window, no invented first point, no partial last interval.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.settings import HarnessSettings
from harness.toxiproxy import Toxic
from reports.data import interval_series
from stackbench.runner import LoadConfig, bench_stack, run_locust
from stackbench.seeding import seed

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

FAULT_MS = 300
SLOW_MS = FAULT_MS / 2  # an interval is "slow" when its p50 is above this
BEFORE_S, FAULT_S = 2.5, 3.0
LOAD_UP_TIMEOUT_S = 60.0


def app_requests(app_url: str) -> float:
    text = httpx.get(f"{app_url}/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.endswith("http_request_duration_seconds_count")
        and sample.labels.get("method") == "POST"
    )


def test_latency_change_lines_up_with_the_fault_edges(tmp_path: Path) -> None:
    config = LoadConfig(workload="writers", users=8, spawn_rate=8, duration_s=14, seed_posts=50)
    settings = HarnessSettings()
    with bench_stack(tmp_path / "logs", "hardened", settings, tls=None) as live:
        ids = seed(live, config.seed_posts, 0)
        start_requests = app_requests(live.app.url)
        out_dir = tmp_path / "run"
        runner = threading.Thread(target=run_locust, args=(config, live.api_url, ids, out_dir))
        runner.start()
        try:
            deadline = time.monotonic() + LOAD_UP_TIMEOUT_S
            while app_requests(live.app.url) < start_requests + 50:  # the load is flowing
                assert time.monotonic() < deadline, "Locust sent no load"
                time.sleep(0.1)
            time.sleep(BEFORE_S)  # shaping the run: a stretch without the fault
            latency = Toxic("latency", "downstream", {"latency": FAULT_MS, "jitter": 0})
            with live.toxiproxy.toxics(live.proxies["turso"], latency):
                fault_on = time.time()
                time.sleep(FAULT_S)
            fault_off = time.time()
        finally:
            runner.join()
    exact = json.loads((out_dir / "exact.json").read_text())
    series = interval_series(exact)
    origin, interval_s = exact["started_s"], exact["interval_s"]
    on_s, off_s = fault_on - origin, fault_off - origin
    p50 = series.percentiles_ms["p50"]
    slow = [t for t, ms in zip(series.t_s, p50, strict=True) if ms > SLOW_MS]

    assert slow, f"no slow interval; p50s {p50}"
    # t_s is an interval's middle: the fault's first slow interval starts within one
    # interval of the switch-on, its last ends within one interval of the switch-off.
    assert abs((slow[0] - interval_s / 2) - on_s) <= interval_s, (on_s, series.t_s, p50)
    assert abs((slow[-1] + interval_s / 2) - off_s) <= interval_s, (off_s, series.t_s, p50)
    assert slow == [t for t in series.t_s if slow[0] <= t <= slow[-1]]  # one slow stretch
    assert series.t_s[0] > 0  # no invented 0 ms point at the start
    assert p50[0] > 0
    assert series.rps[-1] > 0.5 * max(series.rps)  # no partial last interval falling to 0
