"""A short `python -m stackbench` run: stack up, seeded, Locust, results written, all stopped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration


def test_short_bench_writes_summary_and_locust_reports(tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "stackbench", "--duration", "5s", "--users", "5"]
    argv += ["--seed-posts", "200", "--commented-posts", "40", "--out", str(out)]

    result = subprocess.run(
        argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert "Aggregated" in result.stdout
    summary = json.loads((out / "hardened" / "summary.json").read_text())
    endpoints = summary["endpoints"]
    assert endpoints["Aggregated"]["requests"] > 20
    assert endpoints["Aggregated"]["error_rate"] == 0.0
    assert summary["profile"]["name"] == "edge"
    assert summary["settings"]["tls"] is True
    # WebSocket by default, as a libsql:// URL opens: wss, with the certificate trusted.
    assert summary["settings"]["transport"] == summary["database"]["transport"] == "ws"
    assert ", over ws (TLS)" in result.stdout
    assert {"git_commit", "packages", "cpu_count", "load_generator"} <= set(summary)
    cpu = summary["cpu_per_request"]
    assert set(cpu) == {"app", "database", "toxiproxy", "load generator"}
    assert all(row["us_per_request"] > 0 for row in cpu.values())
    assert "CPU µs/request over" in result.stdout
    assert (out / "hardened" / "report.html").exists()
    assert (out / "hardened" / "locust_stats.csv").exists()
