"""Comparisons in words: which side is better, by how much, and why (pure: figures in,
sentences out), for the terminal and the report alike.

Every ratio here is oriented so that > 1 means the named side is better: requests/s as
its own over the other's, latency as the other's over its own ("4.2x lower p50").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SAME_WITHIN = 1.05  # ratios closer to 1 than this are "about the same"
LATENCIES = ("p50", "p95", "p99")
# Ablation variants (stackbench.ablation), by what each one turns off.
FULL = "hardened"
WITHOUT = {"read cache": "hardened, no cache", "write batching": "hardened, no batching"}
NAIVE_PREFIX = "naive"


@dataclass(frozen=True)
class Side:
    """One side's aggregated figures."""

    name: str
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @classmethod
    def of(cls, name: str, row: Mapping[str, float]) -> Side:
        return cls(name, row["rps"], row["p50_ms"], row["p95_ms"], row["p99_ms"])

    def latency(self, metric: str) -> float:
        return float(getattr(self, f"{metric}_ms"))


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator and not math.isnan(denominator) else math.nan


def _times(ratio: float) -> str:
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"


def _latency_words(winner: Side, loser: Side, metric: str) -> str:
    ratio = _ratio(loser.latency(metric), winner.latency(metric))
    if math.isnan(ratio):
        return f"no {metric} to compare"
    if 1 / SAME_WITHIN < ratio < SAME_WITHIN:
        return f"about the same {metric}"
    if ratio > 1:
        return f"{_times(ratio)} lower {metric}"
    return f"{_times(1 / ratio)} higher {metric}"


def headline(a: Side, b: Side) -> str:
    """ "hardened serves 1.7x the requests/s of naive, at 4.2x lower p50 and 3.1x lower p99"."""
    winner, loser = (a, b) if a.rps >= b.rps else (b, a)
    ratio = _ratio(winner.rps, loser.rps)
    if math.isnan(ratio) or ratio < SAME_WITHIN:
        served = f"{a.name} and {b.name} serve about the same requests/s"
        winner, loser = (a, b) if a.p50_ms <= b.p50_ms else (b, a)
        latencies = " and ".join(_latency_words(winner, loser, m) for m in ("p50", "p99"))
        return f"{served}; {winner.name} has {latencies}"
    served = f"{winner.name} serves {_times(ratio)} the requests/s of {loser.name}"
    latencies = " and ".join(_latency_words(winner, loser, m) for m in ("p50", "p99"))
    return f"{served}, at {latencies}"


def advantage(
    mine: Mapping[str, Mapping[str, float]], theirs: Mapping[str, Mapping[str, float]]
) -> dict[str, dict[str, float]]:
    """Per endpoint both have: how many times better `mine` is (> 1: better, < 1: worse)."""
    out = {}
    for name in sorted(mine.keys() & theirs.keys()):
        m, t = mine[name], theirs[name]
        row = {"rps": _ratio(m["rps"], t["rps"])}
        row |= {k: _ratio(t[f"{k}_ms"], m[f"{k}_ms"]) for k in LATENCIES}
        out[name] = row
    return out


def _by_variant(ablation: Sequence[Mapping[str, float | str]]) -> dict[str, Mapping]:
    return {str(row["variant"]): row for row in ablation}


def causes(ablation: Sequence[Mapping[str, float | str]], tls: bool) -> list[str]:
    """Why, from the ablation: what each part of the hardened app is worth in requests/s,
    and what the naive pattern costs in database connections."""
    rows = _by_variant(ablation)
    full = rows.get(FULL)
    if full is None:
        return []
    lines = []
    for part, variant in WITHOUT.items():
        without = rows.get(variant)
        if without is None:
            continue
        worth = _ratio(float(full["rps"]), float(without["rps"]))
        line = f"the {part}: hardened serves {_times(worth)} the requests/s it serves without it"
        if part == "read cache" and not math.isnan(float(full["cache_hit_rate"])):
            line += f" ({100 * float(full['cache_hit_rate']):.0f}% of cacheable reads hit)"
        lines.append(line)
    naive = next((row for name, row in rows.items() if name.startswith(NAIVE_PREFIX)), None)
    if naive is not None:
        handshake = ", each with a TCP and a TLS handshake" if tls else ", each a new TCP handshake"
        lines.append(
            f"a new database client per request: naive opens"
            f" {float(naive['connects_per_request']):.2f} connections per request"
            f" (hardened {float(full['connects_per_request']):.2f}){handshake}"
        )
    return lines


def cpu_cause(
    mine: str,
    theirs: str,
    cpu_mine: Mapping[str, Mapping[str, float]],
    cpu_theirs: Mapping[str, Mapping[str, float]],
    tls: bool,
) -> str | None:
    """What each request costs the app and the database server on either side (CPU per
    request from their own counters), and why the naive app pays more."""
    costs = []
    for process in ("app", "database"):
        a = (cpu_mine.get(process) or {}).get("us_per_request")
        b = (cpu_theirs.get(process) or {}).get("us_per_request")
        if a and b:
            costs.append(f"{_times(b / a)} the {process}'s CPU ({b:.0f} against {a:.0f} µs)")
    if not costs:
        return None
    line = f"per request {theirs} costs {' and '.join(costs)}"
    if theirs.startswith(NAIVE_PREFIX) and mine == FULL:
        handshake = "a TCP and a TLS handshake" if tls else "a TCP handshake"
        line += f": it opens a new database client, with {handshake}, for every request"
    return line


def format_advantage(title: str, table: Mapping[str, Mapping[str, float]]) -> str:
    """The oriented ratio table for the terminal; the title says which way is better."""
    width = max([len(title), *(len(name) for name in table)])
    header = f"{title:<{width}}  {'req/s':>7}  {'p50':>7}  {'p95':>7}  {'p99':>7}"
    lines = [header, "-" * len(header)]
    for name, r in table.items():
        cells = "  ".join(f"{r[k]:>6.2f}x" for k in ("rps", *LATENCIES))
        lines.append(f"{name:<{width}}  {cells}")
    return "\n".join(lines)


def advantage_title(mine: str, theirs: str) -> str:
    return f"{mine} over {theirs} (x better; > 1 means {mine} is better)"
