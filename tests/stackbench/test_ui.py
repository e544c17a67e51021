"""`make locust-ui WORKERS=2`: the chaos panel and the form's workload work with Locust workers.

Driven through Locust's own HTTP routes (the browser test covers the pages): start a run
with a workload other than the command line's, switch a fault through the panel while the
workers send the load, and check what toxiproxy, Locust's stats and the run's files say.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.lifecycle import INTERRUPTED_EXIT_CODE
from harness.processes import ManagedProcess, free_port, http_ready, running
from harness.settings import PROJECT_ROOT
from harness.stack import toxiproxy
from harness.toxiproxy import ToxiproxyApi

pytestmark = pytest.mark.integration

WORKERS = 2
RUN_TIME_S = 40  # a bound on the load even if the test never gets to stop it
WAIT_S = 30.0
UI_STOP_S = 60.0
READ = "/posts/{id}"  # the only request the `readers` workload makes


def wait_for(what: str, condition: Callable[[], Any]) -> Any:
    """Poll until `condition` returns something truthy, or fail after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {WAIT_S}s: {what}")


@pytest.fixture
def toxiproxy_api(log_dir: Path) -> Iterator[ToxiproxyApi]:
    with toxiproxy(log_dir) as api:
        yield api


@pytest.fixture
def ui(tmp_path: Path, log_dir: Path, toxiproxy_api: ToxiproxyApi) -> Iterator[ManagedProcess]:
    port = free_port()
    argv = [sys.executable, "-m", "stackbench.ui", "--web-port", str(port)]
    argv += ["--workers", str(WORKERS), "--profile", "local", "--users", "4", "--spawn-rate", "4"]
    argv += ["--seed-posts", "200", "--run-time", f"{RUN_TIME_S}s", "--workload", "mixed"]
    process = ManagedProcess(
        name="locust-ui",
        argv=argv,
        ready=http_ready(f"http://127.0.0.1:{port}/chaos/state"),
        log_path=log_dir / "locust-ui.log",
        env={"TOXIPROXY_URL": toxiproxy_api.api_url, "RESULTS_DIR": str(tmp_path / "results")},
        cwd=PROJECT_ROOT,
    )
    with running(process):
        process.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
        yield process


def stats(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/stats/requests", timeout=5).json()


def requests_by_name(url: str) -> dict[str, int]:
    return {s["name"]: s["num_requests"] for s in stats(url)["stats"] if s["name"] != "Aggregated"}


def test_panel_and_form_workload_work_with_workers(
    ui: ManagedProcess, toxiproxy_api: ToxiproxyApi, tmp_path: Path
) -> None:
    url: str = ui.url  # type: ignore[attr-defined]
    wait_for(f"{WORKERS} workers connected", lambda: len(stats(url)["workers"]) == WORKERS)

    # `readers`, not the command line's `mixed`: the workers must run what the form says.
    form = {"user_count": 4, "spawn_rate": 4, "workload": "readers", "shape": "constant"}
    assert httpx.post(f"{url}/swarm", data=form, timeout=10).json()["success"]
    wait_for("reads from the workers", lambda: requests_by_name(url).get(READ, 0) > 20)

    on = {"fault": "latency", "link": "turso", "on": True, "params": {"latency": 100}}
    assert httpx.post(f"{url}/chaos/faults", json=on, timeout=10).status_code == 200
    (toxic,) = toxiproxy_api.proxies()["turso"]["toxics"]
    assert toxic["attributes"]["latency"] == 100
    before = requests_by_name(url)[READ]
    wait_for("reads during the fault", lambda: requests_by_name(url)[READ] > before + 10)
    off = {**on, "on": False}
    assert httpx.post(f"{url}/chaos/faults", json=off, timeout=10).status_code == 200
    assert toxiproxy_api.proxies()["turso"]["toxics"] == []
    workers = stats(url)["workers"]

    # Stopped by a signal: Locust winds down its workers, and the exit status says so.
    assert ui.stop(timeout_s=UI_STOP_S) == INTERRUPTED_EXIT_CODE, ui.log_tail()
    assert set(requests_by_name_from(tmp_path)) == {f"GET {READ}"}
    assert sum(w["user_count"] for w in workers) == 4
    assert all(w["user_count"] > 0 for w in workers)  # the load really is on both workers
    (run_dir,) = (p.parent for p in (tmp_path / "results").glob("*/summary.json"))
    events = [json.loads(line) for line in (run_dir / "hardened" / "faults.jsonl").open()]
    assert [(e["fault"], e["on"]) for e in events if e["event"] == "fault"] == [
        ("latency", True),
        ("latency", False),
    ]


def requests_by_name_from(tmp_path: Path) -> dict[str, Any]:
    """The exact HDR results the master wrote, merged from its workers' reports."""
    (exact,) = (tmp_path / "results").glob("*/hardened/exact.json")
    return json.loads(exact.read_text())["endpoints"]
