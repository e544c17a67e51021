"""`make locust-ui` in a real browser: start a run, switch faults through the chaos panel,
see Toxiproxy change, then open the run's report and see its plots.

Screenshots are saved in the test's tmp_path; their paths are printed (`pytest -s`).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from harness.lifecycle import INTERRUPTED_EXIT_CODE
from harness.processes import ManagedProcess, free_port, http_ready, running
from harness.settings import PROJECT_ROOT
from harness.stack import toxiproxy
from harness.toxiproxy import ToxiproxyApi

pytestmark = [pytest.mark.browser, pytest.mark.integration]

RUN_TIME_S = 20  # a bound on the load even if the test never gets to stop it
UI_STOP_S = 60.0  # Locust quits, the stack stops, the report is written
LOAD_S = 2.0  # load before and after each switch, so the charts have something to show


@pytest.fixture
def toxiproxy_api(log_dir: Path) -> Iterator[ToxiproxyApi]:
    with toxiproxy(log_dir) as api:
        yield api


@dataclass
class LocustUi:
    process: ManagedProcess
    url: str


@pytest.fixture
def ui(tmp_path: Path, log_dir: Path, toxiproxy_api: ToxiproxyApi) -> Iterator[LocustUi]:
    """`python -m stackbench.ui` on a free port, using the test's toxiproxy and results dir."""
    port = free_port()
    argv = [sys.executable, "-m", "stackbench.ui", "--web-port", str(port)]
    argv += ["--profile", "local", "--users", "4", "--spawn-rate", "4", "--seed-posts", "200"]
    argv += ["--run-time", f"{RUN_TIME_S}s"]
    process = ManagedProcess(
        name="locust-ui",
        argv=argv,
        ready=http_ready(f"http://127.0.0.1:{port}/chaos/state"),
        log_path=log_dir / "locust-ui.log",
        env={"TOXIPROXY_URL": toxiproxy_api.api_url, "RESULTS_DIR": str(tmp_path / "results")},
        cwd=PROJECT_ROOT,
    )
    with running(process):
        yield LocustUi(process, f"http://127.0.0.1:{port}")


def shot(page: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    print(f"screenshot: {path}")


def turso(api: ToxiproxyApi) -> dict:
    return api.proxies()["turso"]


def start_run(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Custom parameters").click()
    page.locator("select[name=workload]").select_option("readers")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("RUNNING")).to_be_visible(timeout=15_000)


def switch(page: Page, fault: str, on: bool) -> None:
    page.locator(f"#switch-turso-{fault}").click()
    label = "Switch off" if on else "Switch on"
    expect(page.locator(f"#switch-turso-{fault}")).to_have_text(label)


def test_chaos_panel_switches_faults_and_the_report_shows_them(
    browser: BrowserContext, ui: LocustUi, toxiproxy_api: ToxiproxyApi, tmp_path: Path
) -> None:
    page = browser.new_page()
    start_run(page, ui.url)
    time.sleep(LOAD_S)
    page.get_by_role("tab", name="Chaos").click()
    expect(page.get_by_role("cell", name="turso", exact=True)).to_be_visible()
    shot(page, tmp_path, "locust-chaos-tab")

    page.locator("#chaos-panel-link").click()
    expect(page.locator("#switch-turso-latency")).to_be_visible()
    page.locator("#turso-latency-latency").fill("200")
    switch(page, "latency", on=True)
    (toxic,) = turso(toxiproxy_api)["toxics"]
    assert toxic["type"] == "latency"
    assert toxic["attributes"]["latency"] == 200
    expect(page.locator("#turso-latency-latency")).to_have_value("200")  # what is applied
    expect(page.get_by_text("latency (ms)").first).to_be_visible()  # fields carry units
    time.sleep(LOAD_S)
    switch(page, "outage", on=True)
    assert turso(toxiproxy_api)["enabled"] is False
    # The start profile, then the two switches.
    expect(page.locator("#log tbody tr")).to_have_count(3)
    shot(page, tmp_path, "chaos-panel")
    time.sleep(LOAD_S)
    switch(page, "outage", on=False)
    switch(page, "latency", on=False)
    assert turso(toxiproxy_api)["enabled"] is True
    assert turso(toxiproxy_api)["toxics"] == []
    time.sleep(LOAD_S)

    # Stopped by a signal: non-zero, as for Ctrl-C, and the report is still written.
    assert ui.process.stop(timeout_s=UI_STOP_S) == INTERRUPTED_EXIT_CODE
    (run_dir,) = (p.parent for p in (tmp_path / "results").glob("*/summary.json"))
    events = [json.loads(line) for line in (run_dir / "hardened" / "faults.jsonl").open()]
    assert [(e["fault"], e["on"]) for e in events if e["event"] == "fault"] == [
        ("latency", True),
        ("outage", True),
        ("outage", False),
        ("latency", False),
    ]

    page.goto((run_dir / "report.html").as_uri())
    plots = page.locator("img.plot")
    expect(plots.first).to_be_visible()
    widths = plots.evaluate_all("imgs => imgs.map(img => img.complete ? img.naturalWidth : 0)")
    assert len(widths) >= 2
    assert all(width > 0 for width in widths)
    expect(page.get_by_text("latency on")).to_be_visible()
    shot(page, tmp_path, "report")
    index = (tmp_path / "results" / "index.html").read_text()
    assert f'href="{run_dir.name}/report.html"' in index
