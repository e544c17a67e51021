"""HTML for reports and the index: prepared values in, one self-contained page out."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from reports.chaos_verdicts import LEGEND, closing_lines, compact_table, judged, run_label
from reports.data import BaselineRow

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; padding: 0 16px; }
body { max-width: 1280px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; } h3 { font-size: 15px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
td.fail { color: #b71c1c; font-weight: 600; } td.ok { color: #2e7d32; }
img { max-width: 100%; border: 1px solid #eee; }
td small { font-size: 11px; display: block; text-align: left; }
/* Every report fits a 1,400 px screen: long lines (the gate's rule) wrap rather than scroll,
   and the chaos run's many invariant columns are set tighter. */
pre { font-size: 12px; background: #f7f7f7; padding: 8px; white-space: pre-wrap; }
table.invariants { font-size: 12px; } table.invariants :is(th, td) { padding: 3px 4px; }
.note { color: #555; }
.verdict { font-size: 16px; font-weight: 600; }
.verdict.ok { color: #2e7d32; } .verdict.fail { color: #b71c1c; }
"""


@dataclass(frozen=True)
class Figure:
    title: str
    png_base64: str


def _number(value: Any, digits: int = 1) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return escape(str(value))
    return "—" if math.isnan(value) else f"{value:.{digits}f}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], css: str = "") -> str:
    """A table from already-escaped cells; `css`, its class."""
    head = "".join(f"<th>{breakable(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    classes = f' class="{css}"' if css else ""
    return f"<table{classes}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def breakable(text: str) -> str:
    """Escaped, with a line break allowed after each underscore, so a long name
    (during_success_rate, rate_limited_retry_after) wraps within its column instead of
    widening the table past the screen."""
    return escape(text).replace("_", "_<wbr>")


def _cell(cell: str) -> str:
    # A cell may carry its own <td ...> (for classes); plain text gets a plain one.
    return cell if cell.startswith("<td") else f"<td>{cell}</td>"


def figure_html(figure: Figure) -> str:
    source = f"data:image/png;base64,{figure.png_base64}"
    return f'<figure><img class="plot" alt="{escape(figure.title)}" src="{source}"></figure>'


def page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )


def endpoint_table(endpoints: Mapping[str, Mapping[str, float]]) -> str:
    columns = ("requests", "rps", "p50_ms", "p95_ms", "p99_ms", "max_ms", "error_rate")
    rows = [
        [escape(name), *(_number(row.get(c), 0 if c == "requests" else 1) for c in columns)]
        for name, row in endpoints.items()
    ]
    return table(("endpoint", "reqs", "req/s", "p50", "p95", "p99", "max", "err rate"), rows)


def cpu_table(cpu: Mapping[str, Mapping[str, float]]) -> str:
    """CPU per request by process, from the processes' own counters over the measured window."""
    rows = [
        [escape(name), _number(row.get("cpu_s"), 2), _number(row.get("us_per_request"), 0)]
        for name, row in cpu.items()
    ]
    return table(("process", "CPU s", "CPU µs/request"), rows)


def ablation_table(rows: Sequence[Mapping[str, Any]], note: str) -> str:
    """Each app variant's throughput and latency beside the app's own counts."""
    cells = [
        [
            escape(str(r["variant"])),
            _number(r["rps"]),
            _number(r["p50_ms"]),
            _number(r["p99_ms"]),
            _number(100 * r["cache_hit_rate"], 0),
            _number(r["connects_per_request"], 2),
            _number(r["round_trips_per_request"], 2),
        ]
        for r in rows
    ]
    header = ("variant", "req/s", "p50 ms", "p99 ms", "cache hit %", "connects/req", "trips/req")
    notes = "".join(f'<p class="note">{escape(line)}</p>' for line in note.splitlines())
    return table(header, cells) + notes


def comparison(compared: Mapping[str, Any]) -> str:
    """The verdict in words, its causes, and the per-endpoint table (> 1: better)."""
    mine, theirs = escape(compared["mine"]), escape(compared["theirs"])
    causes = "".join(f"<li>{escape(c)}</li>" for c in compared.get("causes", []))
    rows = [
        [escape(name), *(f"{_number(r[k], 2)}x" for k in ("rps", "p50", "p95", "p99"))]
        for name, r in compared["advantage"].items()
    ]
    return (
        f'<p class="verdict">{escape(compared["headline"])}</p>'
        + (f"<p>Why:</p><ul>{causes}</ul>" if causes else "")
        + f'<p class="note">How many times better {mine} is than {theirs}: > 1 means {mine}'
        f" is better (req/s: {mine} ÷ {theirs}; latency: {theirs} ÷ {mine}).</p>"
        + table(("endpoint", "req/s", "p50", "p95", "p99"), rows)
    )


def baseline_table(rows: Sequence[BaselineRow], load: Mapping[str, Any]) -> str:
    workload, users = escape(str(load.get("workload"))), escape(str(load.get("users")))
    note = (
        f'<p class="note">Baseline: median of the gate\'s trials ({workload} workload,'
        f" {users} users), the same workload, users, profile, server and machine as this"
        " run. Change: + means slower than the baseline (lower is better).</p>"
    )
    cells = [
        [
            escape(r.endpoint),
            escape(r.metric),
            _number(r.baseline_ms),
            _number(r.current_ms),
            f"{100 * r.change:+.0f}%" if not math.isnan(r.change) else "—",
        ]
        for r in rows
    ]
    return note + table(("endpoint", "metric", "baseline ms", "this run ms", "change"), cells)


def no_comparable_baseline(reasons: Sequence[str], modes: Sequence[str]) -> str:
    """Why no change against results/baseline.json is shown; `modes` names the ones it
    concerns when others were compared (empty: all of them)."""
    items = "".join(f"<li>{escape(r)}</li>" for r in reasons)
    which = f" for {escape(', '.join(modes))}" if modes else ""
    return (
        f"<p><strong>No comparable baseline{which}</strong>: results/baseline.json was"
        " measured under other conditions, so no change against it is shown.</p>"
        f'<ul class="note">{items}</ul>'
    )


def fault_log_table(events: Sequence[Mapping[str, Any]], origin: float) -> str:
    rows = []
    for e in events:
        what = (
            f"profile {e['profile']}"
            if e.get("event") == "profile"
            else (f"{e['fault']} {'on' if e['on'] else 'off'}")
        )
        params = ", ".join(f"{k}={v:g}" for k, v in (e.get("params") or {}).items())
        rows.append(
            [_number(float(e["t"]) - origin), escape(str(e["link"])), escape(what), escape(params)]
        )
    return table(("s from start", "link", "switch", "params"), rows)


def invariant_table(scenarios: Sequence[Mapping[str, Any]]) -> str:
    """One row per scenario and mode (and transport), one column per invariant: ok or FAIL,
    its figures below."""
    names = list(dict.fromkeys(n for s in scenarios for n in s["invariants"]))
    rows = []
    for s in scenarios:
        cells = [breakable(s["scenario"]), escape(run_label(s))]
        cells += [_invariant_cell(name, s["invariants"].get(name, {})) for name in names]
        verdict = "pass" if s["passed"] else "FAIL"
        if s["mode"] != "hardened" and "expected" in s:
            as_expected = s["passed"] == (s["expected"] == "pass")
            verdict += " (expected)" if as_expected else " (UNEXPECTED)"
        cells.append(f'<td class="{"ok" if s["passed"] else "fail"}">{escape(verdict)}</td>')
        rows.append(cells)
    return table(("scenario", "mode", *names, "verdict"), rows, css="invariants")


def _invariant_cell(name: str, verdict: Mapping[str, Any]) -> str:
    """ok, FAIL, "not judged" (no bound applied) or "reported"; the figures below it."""
    if not verdict.get("passed", True):
        mark, css = "FAIL", "fail"
    elif name == "recovered":
        mark, css = "reported", "note"
    elif not judged(name, verdict):
        mark, css = "not judged", "note"
    else:
        mark, css = "ok", "ok"
    figures = ", ".join(
        breakable(f"{k}={v}")
        for k, v in verdict.items()
        if k not in ("passed", "example") and v is not None
    )
    return f'<td class="{css}">{mark}<br><small class="note">{figures}</small></td>'


def chaos_summary(scenarios: Sequence[Mapping[str, Any]]) -> str:
    """The closing line per mode, the short table, and what its words mean."""
    lines = "".join(f'<p class="verdict">{escape(line)}</p>' for line in closing_lines(scenarios))
    short = f"<pre>{escape(compact_table(scenarios))}</pre>"
    legend = "".join(f"<li>{escape(line)}</li>" for line in LEGEND)
    return f'{lines}{short}<ul class="note">{legend}</ul>'


def trial_table(trials: Mapping[str, Sequence[Mapping[str, Mapping[str, float]]]]) -> str:
    """Each trial's all-endpoint figures, one column group per side (A baseline, B candidate)."""
    sides = list(trials)
    header = ["trial"] + [f"{side} {c}" for side in sides for c in ("reqs", "err", "p50", "p95")]
    rows = []
    for n in range(max((len(t) for t in trials.values()), default=0)):
        cells = [str(n + 1)]
        for side in sides:
            row = trials[side][n].get("Aggregated", {}) if n < len(trials[side]) else {}
            cells += [
                _number(row.get("requests", math.nan), 0),
                _number(row.get("errors", math.nan), 0),
                _number(row.get("p50_ms", math.nan), 2),
                _number(row.get("p95_ms", math.nan), 2),
            ]
        rows.append(cells)
    note = '<p class="note">All endpoints together; latency in ms (successful requests).</p>'
    return note + table(header, rows)


def gate_summary(record: Mapping[str, Any]) -> str:
    """The verdict, the two builds compared, and the gate's own verdict table."""
    passed = record.get("passed")
    css = "ok" if passed else "fail"
    commits = "".join(
        f"<li>{escape(side)}: {escape(str(what))}</li>"
        for side, what in (record.get("compared") or {}).items()
    )
    return (
        f'<p class="verdict {css}">{escape(str(record.get("verdict", "no verdict")))}</p>'
        f"<h3>Compared</h3><ul>{commits}</ul>"
        f"<h3>Verdict per endpoint</h3><pre>{escape(str(record.get('verdict_table', '')))}</pre>"
    )


@dataclass(frozen=True)
class IndexEntry:
    href: str
    run_id: str
    kind: str
    description: str


def index_page(entries: Sequence[IndexEntry]) -> str:
    rows = [
        [
            f'<a href="{escape(e.href)}">{escape(e.run_id)}</a>',
            escape(e.kind),
            escape(e.description),
        ]
        for e in entries
    ]
    body = table(("run", "kind", "what"), rows) if rows else "<p>No runs yet.</p>"
    return page("Runs", body)
