"""A report and the index written from a small synthetic run directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

from harness.hdr import Timeline
from reports.runs import FIGURES_FOR_A_POOL, write_index, write_run_report


def bench_run(run_dir: Path, with_faults: bool) -> Path:
    mode_dir = run_dir / "hardened"
    mode_dir.mkdir(parents=True)
    timeline = Timeline()
    for t in range(10):
        for _ in range(50):
            timeline.record("GET /a", 10.0 + t, False, 1000.5 + t)
    exact = {"started_s": 1000.0, "stopped_s": 1010.0, "interval_s": 1.0}
    (mode_dir / "exact.json").write_text(json.dumps({**exact, "intervals": timeline.drain()}))
    if with_faults:
        events = [
            {
                "t": 1003.0,
                "event": "fault",
                "link": "turso",
                "fault": "latency",
                "on": True,
                "params": {"latency": 200},
            },
            {
                "t": 1006.0,
                "event": "fault",
                "link": "turso",
                "fault": "latency",
                "on": False,
                "params": {},
            },
        ]
        (mode_dir / "faults.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    cpu = {"app": {"cpu_s": 1.5, "us_per_request": 437.0}}
    hardened = {"profile": {"name": "edge"}, "cpu_per_request": cpu}
    (run_dir / "summary.json").write_text(
        json.dumps({"run_id": run_dir.name, "modes": {"hardened": hardened}})
    )
    return run_dir


def test_bench_report_embeds_plots_and_the_fault_switches(tmp_path: Path) -> None:
    report = write_run_report(bench_run(tmp_path / "run-1", with_faults=True)).read_text()

    assert report.count('<img class="plot"') == 2  # all endpoints, and p95 per endpoint
    assert "data:image/png;base64," in report
    assert "latency on" in report
    assert "latency=200" in report
    assert "<td>app</td><td>1.50</td><td>437</td>" in report  # CPU per request by process
    assert "http" not in report.replace("http-equiv", "")  # nothing fetched from a network


def test_a_run_without_load_says_so(tmp_path: Path) -> None:
    run_dir = tmp_path / "empty"
    (run_dir / "hardened").mkdir(parents=True)
    (run_dir / "summary.json").write_text(json.dumps({"modes": {"hardened": {}}}))

    assert "No load ran" in write_run_report(run_dir).read_text()


def test_chaos_report_has_the_invariant_table(tmp_path: Path) -> None:
    run_dir = tmp_path / "chaos" / "c1"
    run_dir.mkdir(parents=True)
    scenario = {
        "scenario": "outage",
        "mode": "hardened",
        "passed": False,
        "invariants": {"lost": {"passed": True, "lost": 0}, "recovery": {"passed": False}},
        "fault_window_s": [1.0, 4.0],
        "timeline": [
            {"t_s": t / 2, "requests": 5, "errors": 1, "p50_ms": 3.0, "p99_ms": 9.0}
            for t in range(12)
        ],
    }
    (run_dir / "summary.json").write_text(
        json.dumps({"settings": {"run_id": "c1"}, "scenarios": [scenario]})
    )

    report = write_run_report(run_dir).read_text()

    assert '<td class="fail"' in report
    assert '<td class="ok"' in report
    assert report.count('<img class="plot"') == 1
    assert "hardened: 1/1 FAIL" in report
    assert "indeterminate: a write whose answer never came" in report


def test_chaos_report_and_index_say_not_judged_and_expected(tmp_path: Path) -> None:
    run_dir = tmp_path / "chaos" / "c2"
    run_dir.mkdir(parents=True)
    invariants = {
        "lost": {"passed": True, "lost": 0},
        "availability": {"passed": True, "during_success_rate": 0.75, "during_minimum": None},
    }
    scenarios = [
        {"scenario": "outage", "mode": "hardened", "passed": True, "invariants": invariants},
        {
            "scenario": "outage",
            "mode": "naive",
            "passed": False,
            "expected": "fail",
            "invariants": {**invariants, "lost": {"passed": False, "lost": 3}},
        },
    ]
    (run_dir / "summary.json").write_text(json.dumps({"scenarios": scenarios}))

    report = write_run_report(run_dir).read_text()
    index = write_index(tmp_path).read_text()

    assert '<td class="note">not judged' in report
    assert "FAIL (expected)" in report
    assert "hardened: 1/1 pass; naive: 1/1 fail — expected" in index


def test_index_lists_runs_newest_first(tmp_path: Path) -> None:
    old = write_run_report(bench_run(tmp_path / "old", with_faults=False))
    write_run_report(bench_run(tmp_path / "new", with_faults=False))
    os.utime(old, (1, 1))

    index = write_index(tmp_path).read_text()

    assert index.index('href="new/report.html"') < index.index('href="old/report.html"')


def test_bench_report_shows_the_ablation_and_what_is_not_simulated(tmp_path: Path) -> None:
    run_dir = bench_run(tmp_path / "run-2", with_faults=False)
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["ablation"] = [
        {
            "variant": "naive (no shared client)",
            "rps": 50.0,
            "p50_ms": 120.0,
            "p99_ms": 300.0,
            "cache_hit_rate": float("nan"),
            "connects_per_request": 1.0,
            "round_trips_per_request": 1.0,
        }
    ]
    summary["not_simulated"] = "not simulated: TCP handshake\nestimated p50: naive 130.0 ms (+10.0)"
    (run_dir / "summary.json").write_text(json.dumps(summary))

    report = write_run_report(run_dir).read_text()

    assert "Where the difference comes from" in report
    assert "naive (no shared client)" in report
    assert "not simulated: TCP handshake" in report
    assert "130.0 ms (+10.0)" in report


def _baseline(tmp_path: Path, workload: str) -> Path:
    trial = {"GET /a": {"p50_ms": 10.0, "p95_ms": 20.0, "requests": 500}}
    body = {
        "load": {"workload": workload, "users": 5},
        "profile": {"name": "edge"},
        "database": {"server": "localturso"},
        "transport": "ws",
        "platform": "Linux-x",
        "cpu_count": 2,
        "trials": [trial, trial],
    }
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(body))
    return path


def _with_endpoints(run_dir: Path) -> Path:
    mode = {
        "profile": {"name": "edge"},
        "settings": {"workload": "readers", "users": 5},
        "database": {"server": "localturso", "transport": "ws"},
        "platform": "Linux-x",
        "cpu_count": 2,
        "endpoints": {"GET /a": {"p50_ms": 12.0, "p95_ms": 30.0, "requests": 900}},
    }
    (run_dir / "summary.json").write_text(json.dumps({"modes": {"hardened": mode}}))
    return run_dir


def test_the_baseline_is_compared_only_under_the_same_conditions(tmp_path: Path) -> None:
    run_dir = _with_endpoints(bench_run(tmp_path / "run", with_faults=False))

    other = write_run_report(run_dir, _baseline(tmp_path, "ycsb-e")).read_text()
    same = write_run_report(run_dir, _baseline(tmp_path, "readers")).read_text()

    assert "No comparable baseline" in other
    assert "workload: baseline ycsb-e, this run readers" in other
    assert "+50%" not in other
    assert "No comparable baseline" not in same
    assert "+50%" in same  # p95 30 ms against 20 ms


def test_a_gate_run_gets_a_report_with_its_trials_and_is_indexed(tmp_path: Path) -> None:
    run_dir = tmp_path / "gate" / "g1"
    run_dir.mkdir(parents=True)

    def trial(p95: float) -> dict:
        return {"Aggregated": {"requests": 900, "errors": 1, "p50_ms": 10.0, "p95_ms": p95}}

    record = {
        "run_id": "g1",
        "passed": False,
        "verdict": "FAIL (Aggregated p95_ms)",
        "compared": {"A (baseline)": "abc1234 main", "B (candidate)": "def5678+dirty"},
        "verdict_table": "endpoint  metric ... REGRESSED",
        "trials": {"A": [trial(20.0), trial(21.0)], "B": [trial(30.0), trial(31.5)]},
    }
    (run_dir / "gate.json").write_text(json.dumps(record))

    report = write_run_report(run_dir).read_text()
    index = write_index(tmp_path).read_text()

    assert "FAIL (Aggregated p95_ms)" in report
    assert "abc1234 main" in report
    assert "def5678+dirty" in report
    assert "REGRESSED" in report
    assert "31.50" in report  # trial 2 of B, per-trial figures
    assert report.count('<img class="plot"') == 1
    assert 'href="gate/g1/report.html"' in index
    assert "FAIL (Aggregated p95_ms); abc1234 main vs def5678+dirty" in index


def test_a_chaos_report_of_many_scenarios_draws_each_figure_in_order(tmp_path: Path) -> None:
    run_dir = tmp_path / "chaos" / "c2"
    run_dir.mkdir(parents=True)
    timeline = [
        {"t_s": t / 2, "requests": 5, "errors": 0, "p50_ms": 3.0, "p99_ms": 9.0} for t in range(6)
    ]
    names = [f"scenario_{i}" for i in range(FIGURES_FOR_A_POOL + 1)]  # drawn by a process pool
    scenarios = [
        {
            "scenario": name,
            "mode": "hardened",
            "passed": True,
            "invariants": {},
            "timeline": timeline,
        }
        for name in names
    ]
    (run_dir / "summary.json").write_text(json.dumps({"scenarios": scenarios}))

    report = write_run_report(run_dir).read_text()

    assert report.count('<img class="plot"') == len(names)
    titles = [report.index(f'alt="{name} (hardened)"') for name in names]
    assert titles == sorted(titles)


def test_no_comparable_baseline_is_said_once_for_every_variant_of_a_comparison(
    tmp_path: Path,
) -> None:
    """`make bench COMPARE=naive` measures four variants under the same conditions: one
    baseline section says once why none of them is held against the baseline."""
    run_dir = _with_endpoints(bench_run(tmp_path / "run", with_faults=False))
    summary = json.loads((run_dir / "summary.json").read_text())
    mode = summary["modes"]["hardened"]
    variants = ("hardened", "hardened-no-cache", "hardened-no-batching", "naive")
    summary["modes"] = {variant: mode for variant in variants}
    (run_dir / "summary.json").write_text(json.dumps(summary))

    report = write_run_report(run_dir, _baseline(tmp_path, "ycsb-e")).read_text()

    assert report.count("No comparable baseline") == 1
    assert report.count("workload: baseline ycsb-e, this run readers") == 1
    assert report.count("against the baseline") + report.count("Against the baseline") == 1


def test_only_the_variants_measured_like_the_baseline_are_held_against_it(
    tmp_path: Path,
) -> None:
    run_dir = _with_endpoints(bench_run(tmp_path / "run", with_faults=False))
    summary = json.loads((run_dir / "summary.json").read_text())
    hardened = summary["modes"]["hardened"]
    naive = {**hardened, "settings": {"workload": "ycsb-e", "users": 5}}
    summary["modes"] = {"hardened": hardened, "naive": naive}
    (run_dir / "summary.json").write_text(json.dumps(summary))

    report = write_run_report(run_dir, _baseline(tmp_path, "readers")).read_text()

    assert report.count("No comparable baseline") == 1
    assert "No comparable baseline for naive" in report
    assert "workload: baseline readers, this run ycsb-e" in report
    assert report.count("+50%") == 1  # hardened's p95, 30 ms against 20 ms
