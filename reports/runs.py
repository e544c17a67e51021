"""Reading a run's files and writing its report.html, and the results/index.html of all runs.

A bench run (also a `make locust-ui` run) is a directory with summary.json and one
directory per app mode holding the recorder's exact.json (and the chaos panel's fault log);
a chaos run is a directory whose summary.json lists scenarios; a gate run
(results/gate/<run-id>/) has the gate's record, gate.json.
"""

from __future__ import annotations

import html
import json
import math
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from harness.lifecycle import die_with_parent
from reports import data, pages, render
from reports.chaos_verdicts import closing_lines

REPORT = "report.html"
INDEX = "index.html"
EXACT = "exact.json"
FAULT_LOG = "faults.jsonl"
BASELINE = "baseline.json"
GATE_RECORD = "gate.json"
# Fewer figures than this are drawn in this process: starting drawing processes costs about
# as much as drawing a few.
FIGURES_FOR_A_POOL = 8


def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def read_fault_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _database_note(summary: Mapping[str, Any]) -> str:
    """Which server the run measured and over which transport; older summaries name only its
    kind, or nothing. A chaos run's own `transport` ("both", say) comes before its first
    stack's."""
    database = summary.get("database")
    if isinstance(database, Mapping):
        transport = summary.get("transport") or database.get("transport")
        over = f"over {transport}" if transport else "transport not recorded"
        tls = "TLS" if database.get("tls") else "no TLS"
        text = f"{database.get('version', database.get('server', '?'))} ({over}, {tls})"
    else:
        text = str(database or "not recorded")
    return f'<p class="note">Database server: {html.escape(text)}</p>'


def _mode_section(mode: str, summary: Mapping[str, Any], mode_dir: Path) -> str:
    exact = _json(mode_dir / EXACT)
    events = read_fault_log(mode_dir / FAULT_LOG)
    profile = summary.get("profile", {}).get("name", "?")
    parts = [f"<h2>{mode} app, {profile} profile</h2>", _database_note(summary)]
    aggregated = data.interval_series(exact)
    if not aggregated:
        parts.append('<p class="note">No load ran (no requests were recorded).</p>')
    else:
        origin = float(exact["started_s"])
        windows = data.fault_windows(events, origin, aggregated.t_s[-1])
        interval_s = float(exact.get("interval_s") or 1.0)
        parts.append(
            f'<p class="note">Each point is one {interval_s:g} s interval of requests by their'
            " start time, from exact HDR histograms; partial intervals at the edges are left"
            " out. Shaded: when a fault was on.</p>"
        )
        figures = [
            pages.Figure(
                f"{mode}: latency and throughput",
                render.series_figure(f"{mode}: all endpoints", aggregated, windows),
            )
        ]
        per_endpoint = [data.interval_series(exact, n) for n in data.interval_endpoints(exact)]
        if per_endpoint:
            figures.append(
                pages.Figure(
                    f"{mode}: p95 per endpoint",
                    render.endpoints_p95(f"{mode}: p95 per endpoint", per_endpoint, windows),
                )
            )
        parts += [pages.figure_html(f) for f in figures]
        if events:
            parts += ["<h3>Fault switches</h3>", pages.fault_log_table(events, origin)]
    if summary.get("endpoints"):
        parts += ["<h3>Exact percentiles (HDR)</h3>", pages.endpoint_table(summary["endpoints"])]
    if summary.get("cpu_per_request"):
        parts += ["<h3>CPU per request</h3>", pages.cpu_table(summary["cpu_per_request"])]
    return "".join(parts)


def _baseline_section(baseline: Mapping[str, Any], modes: Mapping[str, Any]) -> str:
    """One section for results/baseline.json: each mode measured under the baseline's
    conditions against it, and once, for all the others, why they are not (a comparison's
    four variants share their conditions, so they would all say the same)."""
    measured = {mode: s for mode, s in modes.items() if s.get("endpoints")}
    if not baseline or not measured:
        return ""
    reasons = {mode: data.baseline_differences(baseline, s) for mode, s in measured.items()}
    apart = [mode for mode, why in reasons.items() if why]
    parts = ["<h2>Against the baseline</h2>"]
    if apart:
        every_reason = list(dict.fromkeys(r for mode in apart for r in reasons[mode]))
        named = apart if len(apart) < len(measured) else []
        parts.append(pages.no_comparable_baseline(every_reason, named))
    for mode, s in measured.items():
        if not reasons[mode]:
            rows = data.baseline_rows(baseline, s["endpoints"])
            parts += [f"<h3>{mode}</h3>", pages.baseline_table(rows, baseline.get("load", {}))]
    return "".join(parts)


def bench_report(run_dir: Path, summary: Mapping[str, Any], baseline: Mapping[str, Any]) -> str:
    modes: Mapping[str, Any] = summary.get("modes", {})
    parts = []
    compared = summary.get("comparison")
    if compared:  # the answer first; the figures it comes from below
        parts.append("<h2>Comparison</h2>" + pages.comparison(compared))
    parts += [_mode_section(mode, s, run_dir / mode) for mode, s in modes.items()]
    if summary.get("ablation"):
        parts.append("<h2>Where the difference comes from</h2>")
        parts.append(pages.ablation_table(summary["ablation"], summary.get("not_simulated", "")))
    parts.append(_baseline_section(baseline, modes))
    kind = "Locust UI run" if summary.get("source") == "locust-ui" else "Bench run"
    return pages.page(f"{kind} {summary.get('run_id', run_dir.name)}", "".join(parts))


def _scenario_figure(scenario: Mapping[str, Any]) -> pages.Figure | None:
    buckets = scenario.get("timeline") or []
    if not buckets:
        return None
    window = scenario.get("fault_window_s")
    windows = [data.Window(window[0], window[1], scenario["scenario"])] if window else []
    title = f"{scenario['scenario']} ({scenario['mode']})"
    bucket_s = buckets[1]["t_s"] - buckets[0]["t_s"] if len(buckets) > 1 else 1.0
    png = render.latency_and_throughput(
        title,
        [b["t_s"] for b in buckets],
        {"p50": [b["p50_ms"] for b in buckets], "p99": [b["p99_ms"] for b in buckets]},
        [b["requests"] / bucket_s for b in buckets],
        [b["errors"] / bucket_s for b in buckets],
        windows,
    )
    return pages.Figure(title, png)


def _scenario_figures(scenarios: Sequence[Mapping[str, Any]]) -> list[pages.Figure | None]:
    """Each scenario's figure, in order. A figure is ~0.3-0.5 s of CPU and `make chaos` over
    both transports draws ~90, so many are drawn on every core. Forked, not spawned: a
    spawned process imports the program's main module again, and a caller's script without a
    `__main__` guard would then run once more in every worker. The run's servers are all
    stopped by now, and this program runs no other thread, which forking needs."""
    workers = min(len(os.sched_getaffinity(0)), len(scenarios))
    if workers < 2 or len(scenarios) < FIGURES_FOR_A_POOL:
        return [_scenario_figure(s) for s in scenarios]
    fork = multiprocessing.get_context("fork")
    # Workers die with this program, as every process the harness starts (harness.lifecycle).
    with ProcessPoolExecutor(
        workers, mp_context=fork, initializer=die_with_parent, initargs=(os.getpid(),)
    ) as pool:
        return list(pool.map(_scenario_figure, scenarios, chunksize=4))


def chaos_report(run_dir: Path, summary: Mapping[str, Any]) -> str:
    scenarios = summary.get("scenarios", [])
    parts = [
        _database_note(summary.get("settings", {})),
        "<h2>Verdict</h2>",
        pages.chaos_summary(scenarios),
        "<h2>Every invariant</h2>",
        pages.invariant_table(scenarios),
    ]
    figures = [f for f in _scenario_figures(scenarios) if f]
    if figures:
        parts.append("<h2>Latency and throughput, fault window shaded</h2>")
        parts += [pages.figure_html(f) for f in figures]
    run_id = summary.get("settings", {}).get("run_id", run_dir.name)
    return pages.page(f"Chaos run {run_id}", "".join(parts))


def gate_report(run_dir: Path, record: Mapping[str, Any]) -> str:
    trials: Mapping[str, list[Mapping[str, Mapping[str, float]]]] = record.get("trials", {})
    p95 = {
        f"{side} ({'baseline' if side == 'A' else 'candidate'})": [
            t.get(data.AGGREGATED, {}).get("p95_ms", math.nan) for t in side_trials
        ]
        for side, side_trials in trials.items()
    }
    parts = [_database_note(record), pages.gate_summary(record), "<h2>Per trial</h2>"]
    if any(p95.values()):
        png = render.per_trial("p95 of all endpoints, per trial", p95, "p95 latency (ms)")
        parts.append(pages.figure_html(pages.Figure("p95 per trial", png)))
    parts.append(pages.trial_table(trials))
    return pages.page(f"Gate run {record.get('run_id', run_dir.name)}", "".join(parts))


def write_run_report(run_dir: Path, baseline_path: Path | None = None) -> Path:
    """run_dir/report.html for a bench, locust-ui, chaos or gate run."""
    summary = _json(run_dir / "summary.json")
    if (run_dir / GATE_RECORD).exists():
        html = gate_report(run_dir, _json(run_dir / GATE_RECORD))
    elif "scenarios" in summary:
        html = chaos_report(run_dir, summary)
    else:
        baseline = _json(baseline_path) if baseline_path else {}
        html = bench_report(run_dir, summary, baseline)
    out = run_dir / REPORT
    out.write_text(html)
    return out


def _entry(results_dir: Path, report: Path) -> pages.IndexEntry:
    summary = _json(report.parent / "summary.json")
    href = report.relative_to(results_dir).as_posix()
    if (report.parent / GATE_RECORD).exists():
        record = _json(report.parent / GATE_RECORD)
        compared = " vs ".join(str(v) for v in (record.get("compared") or {}).values())
        over = f"; over {record['transport']}" if record.get("transport") else ""
        what = f"{record.get('verdict', 'no verdict')}; {compared}{over}"
        return pages.IndexEntry(href, report.parent.name, "gate", what)
    if "scenarios" in summary:
        what = "; ".join(closing_lines(summary["scenarios"]))
        return pages.IndexEntry(href, report.parent.name, "chaos", what)
    modes = summary.get("modes", {})
    settings = next(iter(modes.values()), {}).get("settings", {})
    profile = next(iter(modes.values()), {}).get("profile", {}).get("name", "?")
    kind = "locust-ui" if summary.get("source") == "locust-ui" else "bench"
    database = next(iter(modes.values()), {}).get("database", {})
    over = f"; over {database['transport']}" if database.get("transport") else ""
    workload = settings.get("workload", "workload from the UI")
    what = f"{', '.join(modes)}; {workload}; {profile}{over}"
    return pages.IndexEntry(href, report.parent.name, kind, what)


def write_index(results_dir: Path) -> Path:
    """results_dir/index.html: every run with a report, newest first."""
    results_dir.mkdir(parents=True, exist_ok=True)
    reports = [
        *results_dir.glob(f"*/{REPORT}"),
        *results_dir.glob(f"chaos/*/{REPORT}"),
        *results_dir.glob(f"gate/*/{REPORT}"),
    ]
    reports.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    out = results_dir / INDEX
    out.write_text(pages.index_page([_entry(results_dir, r) for r in reports]))
    return out
