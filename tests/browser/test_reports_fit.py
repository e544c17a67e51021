"""Every report (bench comparison, Locust UI run, chaos, gate, and the index) fits a
1,400 px laptop screen in a real browser: the page never scrolls sideways, and no box
clips or scrolls its text; long lines wrap instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from reports.runs import write_index, write_run_report
from tests.reports import records

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1400, "height": 900}

# What sticks out: the page's own width, and each element that cuts its content off
# (overflow other than visible with wider content) or reaches past the screen's edge.
OVERFLOW = """() => {
  const page = document.documentElement;
  const found = [];
  if (page.scrollWidth > page.clientWidth) {
    found.push(`the page is ${page.scrollWidth} px wide in ${page.clientWidth}`);
  }
  for (const e of document.body.querySelectorAll('*')) {
    const text = (e.textContent || '').trim().slice(0, 50);
    const cuts = getComputedStyle(e).overflowX !== 'visible' && e.scrollWidth > e.clientWidth;
    if (cuts) found.push(`${e.tagName} cuts ${e.scrollWidth} px to ${e.clientWidth}: ${text}`);
    const right = Math.round(e.getBoundingClientRect().right);
    if (right > page.clientWidth && !['THEAD', 'TBODY', 'TR'].includes(e.tagName)) {
      found.push(`${e.tagName} ends at ${right} px: ${text}`);
    }
  }
  return found.slice(0, 6);
}"""


def every_report(results_dir: Path) -> list[Path]:
    baseline = records.baseline(results_dir)
    runs = [
        records.bench_comparison(results_dir),
        records.locust_ui_run(results_dir),
        records.chaos_run(results_dir),
        records.gate_run(results_dir),
    ]
    return [*(write_run_report(run, baseline) for run in runs), write_index(results_dir)]


def test_every_report_fits_a_laptop_screen(browser: BrowserContext, tmp_path: Path) -> None:
    page = browser.new_page()
    page.set_viewport_size(LAPTOP)
    overflowing = {}
    for report in every_report(tmp_path / "results"):
        page.goto(report.as_uri())
        assert page.evaluate("window.innerWidth") == LAPTOP["width"]
        if found := page.evaluate(OVERFLOW):
            overflowing[str(report.relative_to(tmp_path))] = found

    assert not overflowing, "\n".join(
        f"{report}: {'; '.join(found)}" for report, found in overflowing.items()
    )
