"""What the quality check reads back from each gate run's record."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from stackbench.gate_quality import aggregated_change


def comparison(endpoint: str, metric: str, estimate: float) -> dict:
    return {"endpoint": endpoint, "metric": metric, "effect": {"estimate": estimate}}


def test_each_aggregated_figure_is_read_from_the_gate_record(tmp_path: Path) -> None:
    comparisons = [
        comparison("GET /x", "p95_ms", 0.5),
        comparison("Aggregated", "p95_ms", 0.21),
        comparison("Aggregated", "app_cpu_us", -0.01),
    ]
    (tmp_path / "gate.json").write_text(json.dumps({"comparisons": comparisons}))

    assert aggregated_change(tmp_path, "p95_ms") == pytest.approx(0.21)
    assert aggregated_change(tmp_path, "app_cpu_us") == pytest.approx(-0.01)
    assert math.isnan(aggregated_change(tmp_path, "database_cpu_us"))


def test_a_run_that_left_no_record_reads_as_nan(tmp_path: Path) -> None:
    assert math.isnan(aggregated_change(tmp_path, "p95_ms"))
    (tmp_path / "gate.json").write_text("{not json")
    assert math.isnan(aggregated_change(tmp_path, "p95_ms"))
