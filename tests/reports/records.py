"""Small synthetic runs of every report kind, shaped like real ones: their longest names,
figures and lines, so a report's layout is tested without running a bench, chaos or gate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.hdr import AGGREGATED, Timeline
from stackbench.gate_stats import compare, format_comparisons

ENDPOINTS = (
    "DELETE /posts/{id}",
    "GET /posts/{id} cold",
    "GET /posts/{id} hot",
    "GET /posts?after&limit",
    "GET /posts?include=comments",
    "PATCH /posts/{id}",
    "POST /posts",
    "POST /posts/batch",
    "POST /posts/{id}/comments",
)
VARIANTS = ("hardened", "hardened-no-cache", "hardened-no-batching", "naive")
PLATFORM = "Linux-6.1.0-28-cloud-amd64-x86_64-with-glibc2.36"


def _write(path: Path, body: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body))


def _exact(mode_dir: Path) -> None:
    """Ten one-second intervals of every endpoint, as the recorder writes them."""
    timeline = Timeline()
    for t in range(10):
        for n, endpoint in enumerate(ENDPOINTS):
            timeline.record(endpoint, 10.0 + t + n, False, 1000.5 + t)
    exact = {"started_s": 1000.0, "stopped_s": 1010.0, "interval_s": 1.0}
    _write(mode_dir / "exact.json", {**exact, "intervals": timeline.drain()})


def _mode(users: int) -> dict[str, Any]:
    row = {"requests": 912, "rps": 91.2, "p50_ms": 26.21, "p95_ms": 49.94, "p99_ms": 88.1}
    row |= {"max_ms": 256.3, "error_rate": 0.0012}
    return {
        "profile": {"name": "edge"},
        "settings": {"workload": "readers", "users": users},
        "database": {"server": "localturso", "transport": "ws", "tls": True},
        "platform": PLATFORM,
        "cpu_count": 2,
        "endpoints": {name: row for name in (*ENDPOINTS, AGGREGATED)},
        "cpu_per_request": {"app": {"cpu_s": 41.2, "us_per_request": 1964.0}},
    }


def bench_comparison(results_dir: Path) -> Path:
    """`make bench COMPARE=naive`: four variants, the comparison and the ablation, against a
    results/baseline.json measured with other users (so not comparable)."""
    run_dir = results_dir / "20261208T010000Z"
    _exact(run_dir / "hardened")
    ablation = [
        {
            "variant": name,
            "rps": 91.2,
            "p50_ms": 26.2,
            "p99_ms": 88.1,
            "cache_hit_rate": 0.93,
            "connects_per_request": 0.01,
            "round_trips_per_request": 1.72,
        }
        for name in ("hardened", "hardened, no cache", "hardened, no batching", "naive")
    ]
    advantage = {name: {"rps": 1.7, "p50": 4.2, "p95": 3.3, "p99": 3.1} for name in ENDPOINTS}
    cause = (
        "a new database client per request: naive opens 1.00 connections per request"
        " (hardened 0.01), each with a TCP and a TLS handshake"
    )
    summary = {
        "run_id": run_dir.name,
        "modes": {variant: _mode(users=8) for variant in VARIANTS},
        "ablation": ablation,
        "not_simulated": "not simulated: TCP and TLS handshakes\nestimated p50: naive 130.0 ms",
        "comparison": {
            "mine": "hardened",
            "theirs": "naive",
            "headline": "hardened serves 1.7x the requests/s of naive, at 4.2x lower p50",
            "causes": [cause] * 3,
            "advantage": advantage,
        },
    }
    _write(run_dir / "summary.json", summary)
    return run_dir


def baseline(results_dir: Path) -> Path:
    path = results_dir / "baseline.json"
    trial = {name: {"p50_ms": 24.0, "p95_ms": 45.0, "requests": 900} for name in ENDPOINTS}
    body = {
        "load": {"workload": "readers", "users": 5},
        "profile": {"name": "edge"},
        "database": {"server": "localturso"},
        "transport": "ws",
        "platform": PLATFORM,
        "cpu_count": 2,
        "trials": [trial, trial, trial],
    }
    _write(path, body)
    return path


def locust_ui_run(results_dir: Path) -> Path:
    """`make locust-ui`: one mode, faults switched on and off from the chaos panel."""
    run_dir = results_dir / "20261208T020000Z"
    _exact(run_dir / "hardened")
    params = {"latency": 200, "jitter": 50, "toxicity": 1.0, "rate": 1024, "timeout": 3000}
    events = [
        {"t": 1000.0 + t, "event": "fault", "link": link, "fault": "latency", "on": on}
        | {"params": params if on else {}}
        for t, (link, on) in enumerate([("turso", True), ("turso", False), ("app", True)])
    ]
    log = "".join(json.dumps(e) + "\n" for e in events)
    (run_dir / "hardened" / "faults.jsonl").write_text(log)
    summary = {"run_id": run_dir.name, "source": "locust-ui", "modes": {"hardened": _mode(4)}}
    _write(run_dir / "summary.json", summary)
    return run_dir


def _invariants(failing: bool) -> dict[str, dict[str, Any]]:
    """Every invariant the chaos checker judges, with the figures it records."""
    return {
        "lost": {"passed": True, "lost": 0, "acked": 1808, "example": None},
        "duplicated": {"passed": True, "duplicated": 0, "extra_rows": 0, "example": None},
        "lost_update": {"passed": True, "posts": 1, "acked": 95, "lost": 0, "refused_applied": 0},
        "rejected": {"passed": True, "rejected": 0, "stored_anyway": 0, "example": None},
        "latency": {
            "passed": not failing,
            "before_p99_ms": 147.9,
            "during_p99_ms": 3074.3,
            "after_p99_ms": 179.4,
            "before_bound_ms": 1100.0,
            "during_bound_ms": 1100.0,
            "after_bound_ms": 1100.0,
            "max_ms": 3074.4,
            "failing": "during" if failing else None,
        },
        "errors": {
            "passed": not failing,
            "status_500_or_other": 1117,
            "status_503": 889,
            "status_504": 12,
            "not_json": 4,
            "503_without_retry_after": 0,
            "unanswered": 1,
        },
        "availability": {
            "passed": True,
            "before_success_rate": 0.9227,
            "during_success_rate": 0.3421,
            "after_success_rate": 0.9981,
            "before_minimum": 0.99,
            "during_minimum": None,
            "after_minimum": None,
            "success_rate": 0.9928,
        },
        "recovery": {"passed": True, "recovery_s": 0.037, "bound_s": 2.0},
        "recovered": {"passed": True, "indeterminate": 398, "landed": 12},
        "consistency": {"passed": True, "reads_checked": 284, "stale_reads": 0, "missing": 0},
        "token_rotation": {
            "passed": True,
            "failures": 1240,
            "refused": 2,
            "other_failures": 918,
            "other_codes": "500, None",
            "readiness_status": 503,
        },
    }


def chaos_run(results_dir: Path) -> Path:
    """`make chaos` of both modes over both transports, the longest scenario names."""
    run_dir = results_dir / "chaos" / "20261208T030000Z"
    timeline = [
        {"t_s": t / 2, "requests": 60, "errors": 3, "p50_ms": 30.0, "p99_ms": 120.0}
        for t in range(12)
    ]
    scenarios = [
        {
            "scenario": name,
            "mode": mode,
            "transport": transport,
            "passed": mode == "hardened",
            "expected": "fail",
            "retries": 12.0,
            "invariants": _invariants(failing=mode == "naive"),
            "fault_window_s": [1.0, 4.0],
            "timeline": timeline if name == "outage" and transport == "ws" else [],
        }
        for transport in ("ws", "http")
        for mode in ("hardened", "naive")
        for name in ("outage", "rate_limited_retry_after", "reset_peer_intermittent")
    ]
    settings = {
        "run_id": run_dir.name,
        "transport": "both",
        "database": {"server": "localturso", "version": "localturso 0.1.0 (sqld-compatible)"},
    }
    _write(run_dir / "summary.json", {"settings": settings, "scenarios": scenarios})
    return run_dir


def _trial(p95_ms: float) -> dict[str, dict[str, float]]:
    row = {"requests": 900, "errors": 1, "p50_ms": 25.0, "p95_ms": p95_ms}
    trial = {name: row for name in ENDPOINTS}
    return trial | {AGGREGATED: row | {"app_cpu_us": 1964.0, "database_cpu_us": 1305.0}}


def gate_run(results_dir: Path) -> Path:
    """`make gate`: five paired trials, with the gate's own verdict table and its legend."""
    run_dir = results_dir / "gate" / "20261208T040000Z"
    a = [_trial(40.0 + n) for n in range(5)]
    b = [_trial(41.0 + n) for n in range(5)]
    record = {
        "run_id": run_dir.name,
        "passed": True,
        "verdict": "PASS",
        "compared": {"A (baseline)": "ab858b4 main", "B (candidate)": "d1b5aef+dirty"},
        "verdict_table": format_comparisons(compare(a, b, paired=True), paired=True),
        "trials": {"A": a, "B": b},
        "database": {"server": "localturso", "version": "localturso 0.1.0", "transport": "ws"},
    }
    _write(run_dir / "gate.json", record)
    return run_dir
